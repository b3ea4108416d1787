// npm run ringctl -- status|members|ring|leave NODE|remove NODE [--node host:port]
// Talks to any node's admin API (default 127.0.0.1:3000) with ADMIN_TOKEN from the environment.
import { parseArgs } from 'node:util';
import type { ClusterView, Problem } from '../../contract/types';

/** GET /api/admin/status: the cluster view plus this node's own figures (server/http/routes/admin.ts). */
type AdminStatus = ClusterView & { ready: boolean; keys: number };

const usage =
  'usage: npm run ringctl -- status|members|ring|leave NODE|remove NODE [--node host:port]   (ADMIN_TOKEN must be set)';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { node: { type: 'string', default: '127.0.0.1:3000' }, json: { type: 'boolean', default: false } },
  });
  const [command, target] = positionals;
  const token = process.env.ADMIN_TOKEN;
  if (!command || !['status', 'members', 'ring', 'leave', 'remove'].includes(command)) return fail(usage);
  if (!token) return fail('ringctl: set ADMIN_TOKEN to the cluster admin token');
  if ((command === 'leave' || command === 'remove') && !target)
    return fail(`ringctl: ${command} needs a node name (see: npm run ringctl -- members)`);
  const base = `http://${values.node}`;
  const call = async (method: string, path: string, body?: unknown) => {
    let res: Response;
    try {
      res = await fetch(base + path, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    } catch (err) {
      throw new Error(`cannot reach ${base}: ${(err as Error).message}`, { cause: err });
    }
    const data: unknown = await res.json().catch(() => ({}));
    if (!res.ok) {
      const p = data as Partial<Problem>;
      throw new Error(`${res.status} ${p.title ?? ''}: ${p.detail ?? ''}`);
    }
    return data;
  };
  if (command === 'leave' || command === 'remove') {
    const r = (await call('POST', `/api/admin/${command}`, { node: target })) as { leaving?: string; removed?: string };
    console.log(
      command === 'leave'
        ? `${r.leaving} is leaving: it hands its partitions off, then exits`
        : `${r.removed} removed: its partitions are reassigned and re-replicated`,
    );
    return 0;
  }
  const s = (await call('GET', '/api/admin/status')) as AdminStatus;
  if (values.json) {
    console.log(JSON.stringify(command === 'members' ? s.members : command === 'ring' ? s.ring : s, null, 2));
    return 0;
  }
  const owned = new Map<string, number>();
  const moving = new Map<string, number>();
  for (const p of s.ring.partitions) {
    owned.set(p.owner, (owned.get(p.owner) ?? 0) + 1);
    if (p.next) moving.set(p.next, (moving.get(p.next) ?? 0) + 1);
  }
  if (command === 'ring') {
    console.log(`ring: ${s.ring.size} partitions`);
    for (const p of s.ring.partitions)
      console.log(`  ${String(p.index).padStart(4)}  ${p.owner}${p.next ? ` -> ${p.next}` : ''}`);
    return 0;
  }
  console.log(`${'member'.padEnd(16)}${'address'.padEnd(24)}${'status'.padEnd(10)}${'liveness'.padEnd(10)}partitions`);
  for (const m of s.members)
    console.log(
      `${m.name.padEnd(16)}${m.addr.padEnd(24)}${m.status.padEnd(10)}${m.liveness.padEnd(10)}${owned.get(m.name) ?? 0}${moving.get(m.name) ? ` (+${moving.get(m.name)} incoming)` : ''}`,
    );
  if (command === 'status') {
    console.log(
      `\nasked ${s.node}: ${s.ready ? 'ready' : 'NOT ready'}, ${s.keys} keys stored, ${s.handoffs.length} handoffs in progress`,
    );
    for (const h of s.handoffs)
      console.log(`  ${h.kind} partition ${h.partition} -> ${h.to.join(',')}: ${h.keysSent}/${h.keysTotal} keys`);
  }
  return 0;
}

function fail(msg: string): number {
  console.error(msg);
  return 2;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`ringctl: ${err.message}`);
    process.exit(1);
  },
);
