// Next.js behind the custom server (production build only). Next is loaded lazily so a node
// without a built UI (or with SERVE_UI=0) still serves redirects and the API.
import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { PageHandler } from './app';

export async function loadNextPages(dir: string, port: number, hostname: string): Promise<PageHandler | undefined> {
  if (!existsSync(join(dir, '.next', 'BUILD_ID'))) return undefined;
  const { default: next } = await import('next');
  const app = next({ dev: false, dir, port, hostname, quiet: true });
  await app.prepare();
  const handle = app.getRequestHandler();
  const upgrade = app.getUpgradeHandler();
  return {
    handle: (req: IncomingMessage, res: ServerResponse) => handle(req, res),
    upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void upgrade(req, socket, head),
  };
}
