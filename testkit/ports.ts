// Free TCP ports on loopback, for nodes and helper servers (redis-server, a bare baseline).
import { createServer } from 'node:net';

const usedPorts = new Set<number>();

function listenOnce(port: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => {
      const addr = srv.address();
      const p = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(p));
    });
  });
}

/** A free TCP port on 127.0.0.1 (listen on 0, then close); never the same one twice in a process. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await listenOnce(0);
    if (port > 0 && !usedPorts.has(port)) {
      usedPorts.add(port);
      return port;
    }
  }
  throw new Error('freePort: no fresh port after 50 attempts');
}

/** The first of `count` consecutive ports that are free now (for a launcher that numbers its own ports). */
export async function freePortRun(count: number): Promise<number> {
  const free = (port: number) =>
    listenOnce(port).then(
      () => true,
      () => false,
    );
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 20_000);
    let ok = true;
    for (let i = 0; i < count && ok; i++) ok = await free(base + i);
    if (ok) return base;
  }
  throw new Error(`freePortRun: no ${count} consecutive free ports found`);
}
