// Where the bytes of a stored link copy go, from two V8 heap snapshots of one node: one taken
// before N links were created, one after (both after a full GC; POST /api/admin/heap-snapshot).
// Every heap object's own size is charged to a structure named by its shape: a plain object
// by its sorted property names (a StoredEntry is {entry,hash,seq,since}, a link document has
// slug, url, owner...), a string by what it looks like (a key "link/...", a version actor
// "name@boot.n", a URL), anything else by V8's type and name. The difference between the
// snapshots per structure, divided by the copies this node stored (N links on a 3-node
// cluster at N=3: one copy per link), is the table of docs/storage.md.
//
// node scripts/run-bundled.mjs bench/heapBreakdown.ts -- BEFORE.heapsnapshot AFTER.heapsnapshot COPIES [--top 30]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** The shape of a string's content, so keys, actors and URLs add up apart. */
function stringShape(s: string): string {
  const key = /^([a-z]+)\/./.exec(s);
  if (key) return `string: key "${key[1]}/..."`;
  if (/^[A-Za-z0-9_-]+@[0-9a-f]+\.\d+$/.test(s)) return 'string: version actor "node@boot.seq"';
  if (/^[A-Za-z0-9_-]+@[0-9a-f]+$/.test(s)) return 'string: boot id';
  if (/^https?:\/\//.test(s)) return 'string: URL';
  if (/^[a-z]:/.test(s)) return 'string: owner id';
  return 'string: other';
}

/** Own bytes per structure. */
function tally(file: string): Map<string, { bytes: number; count: number }> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const nf = snap.snapshot.meta.node_fields;
  const ef = snap.snapshot.meta.edge_fields;
  const nodeTypes = snap.snapshot.meta.node_types[0];
  const edgeTypes = snap.snapshot.meta.edge_types[0];
  const [T, N, S, EC] = ['type', 'name', 'self_size', 'edge_count'].map((f) => nf.indexOf(f)) as [
    number,
    number,
    number,
    number,
  ];
  const [ET, EN] = ['type', 'name_or_index'].map((f) => ef.indexOf(f)) as [number, number];
  const stride = nf.length;
  const estride = ef.length;
  const out = new Map<string, { bytes: number; count: number }>();
  let edge = 0;
  for (let i = 0; i < snap.nodes.length; i += stride) {
    const type = nodeTypes[snap.nodes[i + T]!]!;
    const name = snap.strings[snap.nodes[i + N]!]!;
    const self = snap.nodes[i + S]!;
    const edges = snap.nodes[i + EC]!;
    let shape: string;
    if (type === 'object' && (name === 'Object' || name === 'Array')) {
      const props: string[] = [];
      let elements = 0;
      for (let e = edge; e < edge + edges * estride; e += estride) {
        const et = edgeTypes[snap.edges[e + ET]!];
        if (et === 'property') props.push(snap.strings[snap.edges[e + EN]!]!);
        if (et === 'element') elements++;
      }
      const named = props.filter((p) => p !== '__proto__' && p !== 'map' && p !== 'elements');
      if (name === 'Array') shape = `Array (${elements} elements)`;
      else if (named.length > 0 && named.every((p) => /@[0-9a-f]+\.\d+$/.test(p))) shape = 'Object: version vector';
      else shape = `Object {${named.sort().join(',')}}`;
    } else if (type === 'string' || type === 'concatenated string' || type === 'sliced string')
      shape = stringShape(name);
    else if (type === 'number') shape = 'heap number';
    else shape = `${type}: ${name.length > 40 ? `${name.slice(0, 40)}...` : name}`;
    const t = out.get(shape) ?? { bytes: 0, count: 0 };
    t.bytes += self;
    t.count++;
    out.set(shape, t);
    edge += edges * estride;
  }
  return out;
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '30' } },
});
const [beforeFile, afterFile, copiesArg] = positionals;
if (!beforeFile || !afterFile || !copiesArg) {
  console.error('usage: heapBreakdown BEFORE.heapsnapshot AFTER.heapsnapshot COPIES [--top 30]');
  process.exit(2);
}
const copies = Number(copiesArg);
const before = tally(beforeFile);
const after = tally(afterFile);
const rows: { shape: string; bytes: number; count: number }[] = [];
for (const [shape, a] of after) {
  const b = before.get(shape) ?? { bytes: 0, count: 0 };
  rows.push({ shape, bytes: (a.bytes - b.bytes) / copies, count: (a.count - b.count) / copies });
}
for (const [shape, b] of before)
  if (!after.has(shape)) rows.push({ shape, bytes: -b.bytes / copies, count: -b.count / copies });
rows.sort((x, y) => Math.abs(y.bytes) - Math.abs(x.bytes));
const total = rows.reduce((s, r) => s + r.bytes, 0);
console.log(`| structure (V8 heap, own bytes) | objects per copy | bytes per copy |`);
console.log(`|---|---:|---:|`);
const top = Number(values.top);
for (const r of rows.slice(0, top)) console.log(`| ${r.shape} | ${r.count.toFixed(2)} | ${r.bytes.toFixed(1)} |`);
const rest = rows.slice(top).reduce((s, r) => s + r.bytes, 0);
console.log(`| everything else | | ${rest.toFixed(1)} |`);
console.log(`| **total** | | **${total.toFixed(1)}** |`);
