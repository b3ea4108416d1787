import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  FOOTER_BYTES,
  HEADER_BYTES,
  RecordLog,
  crc32,
  crc32Js,
  logFileName,
  snapshotFileName,
} from '../../server/durability/recordLog';
import type { FsyncPolicy, OpenResult, RecordLogOptions } from '../../server/durability/recordLog';

const INTERVAL: FsyncPolicy = { mode: 'interval', intervalMs: 50 };

/** Runs of each corruption property: FUZZ_RUNS when set (`npm run fuzz` sets it large), else the property's CI default. */
const runs = (ciDefault: number): number => (process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : ciDefault);
/** Those properties' test timeout: vitest's default in CI, an hour for a large FUZZ_RUNS. */
const fuzzTimeout = process.env.FUZZ_RUNS ? 3_600_000 : undefined;
/** Runs and time per property, written to FUZZ_SUMMARY_FILE (when set) after the file's tests. */
const fuzzStats: Record<string, { runs: number; ms: number }> = {};
function counted<A extends unknown[]>(name: string, predicate: (...args: A) => void): (...args: A) => void {
  const st = (fuzzStats[name] = { runs: 0, ms: 0 });
  return (...args: A) => {
    const t = performance.now();
    try {
      predicate(...args);
    } finally {
      st.runs++;
      st.ms += performance.now() - t;
    }
  };
}
afterAll(() => {
  if (process.env.FUZZ_SUMMARY_FILE)
    fs.writeFileSync(
      process.env.FUZZ_SUMMARY_FILE,
      JSON.stringify(
        Object.fromEntries(
          Object.entries(fuzzStats).map(([k, v]) => [k, { runs: v.runs, seconds: +(v.ms / 1000).toFixed(1) }]),
        ),
        null,
        2,
      ),
    );
});

const recordArb = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.boolean(),
  fc.constant(null),
  fc.uint8Array({ maxLength: 40 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string(), fc.integer(), fc.boolean())),
  fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 6 }),
);

let dirs: string[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ringlink-recordlog-'));
  dirs.push(d);
  return d;
}

type Logged = { level: 'warn' | 'info'; msg: string; fields?: Record<string, unknown> };
function capture(): { logged: Logged[]; logger: NonNullable<RecordLogOptions['logger']> } {
  const logged: Logged[] = [];
  return {
    logged,
    logger: {
      warn: (msg, fields) => logged.push({ level: 'warn', msg, fields }),
      info: (msg, fields) => logged.push({ level: 'info', msg, fields }),
    },
  };
}

const opened: RecordLog[] = [];
function open(dir: string, opts: Partial<RecordLogOptions> = {}): OpenResult {
  const r = RecordLog.open(dir, { fsync: INTERVAL, ...opts });
  opened.push(r.log);
  return r;
}

beforeEach(() => {
  dirs = [];
});
afterEach(() => {
  for (const l of opened.splice(0)) l.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** msgpack decodes binaries as Buffer: compare bytes, not classes. */
function norm(v: unknown): unknown {
  if (v instanceof Uint8Array) return { __bytes: Array.from(v) };
  if (Array.isArray(v)) return v.map(norm);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, norm(x)]));
  }
  return v;
}

const VARIED: unknown[] = [
  {
    t: 's',
    p: 17,
    k: 'link/abc1234',
    e: {
      k: 'r',
      vv: { 'n1@ab12.3': 4 },
      s: [{ d: ['n1@ab12.3', 4], v: { url: 'https://example.com/?x=1' }, at: 1700000000000 }],
    },
  },
  [1, 'two', [3, [4, [5]]], { six: 6 }],
  '',
  'a plain string',
  'unicode: héllo wörld ✓ 🚀 \u0000 nul',
  'x'.repeat(70_000),
  0,
  1,
  -1,
  255,
  65_536,
  2 ** 32 + 5,
  Number.MAX_SAFE_INTEGER,
  -(2 ** 40),
  3.14159,
  -1.5e-300,
  Number.MAX_VALUE,
  0.1 + 0.2,
  Infinity,
  -Infinity,
  null,
  true,
  false,
  {},
  [],
  { nested: { deeper: { deepest: [null, true, { z: 1.25 }] } } },
  new Uint8Array([0, 1, 2, 254, 255]),
  { bytes: new Uint8Array(1000).fill(7), tag: 'bin' },
  new Uint8Array(0),
  Array.from({ length: 500 }, (_, i) => ({ i, s: `v${i}` })),
];

// Damage to one file of a log directory, and the on-disk format pieces the garbage-file property forges
// (from the format comment in server/durability/recordLog.ts).
type Damage =
  | { file: number; kind: 'flip'; at: number; xor: number }
  | { file: number; kind: 'truncate'; at: number }
  | { file: number; kind: 'zero'; at: number; len: number }
  | { file: number; kind: 'garbage'; bytes: Uint8Array };

const damageArb: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({
    file: fc.nat(),
    kind: fc.constant('flip' as const),
    at: fc.nat(),
    xor: fc.integer({ min: 1, max: 255 }),
  }),
  fc.record({ file: fc.nat(), kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ file: fc.nat(), kind: fc.constant('zero' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 64 }) }),
  fc.record({
    file: fc.nat(),
    kind: fc.constant('garbage' as const),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }),
  }),
);

function applyDamage(b: Buffer, d: Damage): Buffer {
  if (d.kind === 'garbage') return Buffer.concat([b, d.bytes]);
  if (b.length === 0) return b;
  const at = d.at % b.length;
  if (d.kind === 'truncate') return b.subarray(0, at);
  const c = Buffer.from(b);
  if (d.kind === 'flip') c[at] = c[at]! ^ d.xor;
  else c.fill(0, at, Math.min(c.length, at + d.len));
  return c;
}

/** How many leading bytes `damaged` still shares with `original`. */
function intactPrefix(original: Buffer, damaged: Buffer): number {
  const n = Math.min(original.length, damaged.length);
  for (let i = 0; i < n; i++) if (original[i] !== damaged[i]) return i;
  return n;
}

const KIND_LOG = 0x4c;
const KIND_SNAPSHOT = 0x53;
function fileHeader(kind: number, gen: number, version = 1): Buffer {
  const b = Buffer.alloc(HEADER_BYTES);
  b.write('RLNK', 0, 'latin1');
  b.writeUInt8(version, 4);
  b.writeUInt8(kind, 5);
  b.writeUInt32LE(gen >>> 0, 8);
  b.writeUInt32LE(crc32(b.subarray(0, 12)), 12);
  return b;
}
function fileFooter(gen: number, count: number, bodyBytes: number): Buffer {
  const b = Buffer.alloc(FOOTER_BYTES);
  b.write('RLNKSEND', 0, 'latin1');
  b.writeUInt32LE(gen >>> 0, 8);
  b.writeUInt32LE(count, 12);
  b.writeUInt32LE(bodyBytes, 20);
  b.writeUInt32LE(crc32(b.subarray(0, 28)), 28);
  return b;
}

describe('RecordLog', () => {
  it('round-trips many records of varied shapes, across close and reopen', () => {
    const dir = tempDir();
    const { log, snapshot, tail } = open(dir);
    expect(snapshot).toEqual([]);
    expect(tail).toEqual([]);
    const written: unknown[] = [];
    for (let round = 0; round < 20; round++) {
      for (const r of VARIED) {
        log.append(r);
        written.push(r);
      }
    }
    log.close();
    const again = open(dir);
    expect(again.snapshot).toEqual([]);
    expect(again.tail.length).toBe(written.length);
    expect(norm(again.tail)).toEqual(norm(written));
    expect(again.stats.tailRecords).toBe(written.length);
    expect(again.stats.truncatedBytes).toBe(0);
    expect(again.stats.bytesRead).toBe(fs.statSync(path.join(dir, logFileName(0))).size);
    expect(again.log.sizeBytes()).toBe(again.stats.bytesRead);
  });

  it('decoded binaries do not alias the read buffer', () => {
    const dir = tempDir();
    const { log } = open(dir);
    const bins = Array.from({ length: 50 }, (_, i) => new Uint8Array(100_000).fill(i));
    for (const b of bins) log.append({ b });
    log.close();
    const { tail } = open(dir);
    tail.forEach((r, i) => expect(Array.from(new Set((r as { b: Uint8Array }).b))).toEqual([i]));
  });

  it('appends after a reopen continue the same log', () => {
    const dir = tempDir();
    const a = open(dir);
    a.log.append('one');
    a.log.append({ two: 2 });
    a.log.close();
    const b = open(dir);
    expect(b.tail).toEqual(['one', { two: 2 }]);
    b.log.append([3]);
    b.log.close();
    const c = open(dir);
    expect(c.tail).toEqual(['one', { two: 2 }, [3]]);
    expect(c.snapshot).toEqual([]);
  });

  it('compaction, more appends and a reopen give snapshot + tail', () => {
    const dir = tempDir();
    const { log } = open(dir);
    for (let i = 0; i < 100; i++) log.append({ i });
    const before = log.sizeBytes();
    log.compact([{ state: 'a' }, { state: 'b' }, ['c']]);
    expect(log.sizeBytes()).toBe(HEADER_BYTES);
    expect(log.sizeBytes()).toBeLessThan(before);
    expect(log.generation()).toBe(1);
    log.append({ after: 1 });
    log.append({ after: 2 });
    log.close();
    expect(fs.readdirSync(dir).sort()).toEqual([logFileName(1), snapshotFileName(1)]);

    const r = open(dir);
    expect(r.snapshot).toEqual([{ state: 'a' }, { state: 'b' }, ['c']]);
    expect(r.tail).toEqual([{ after: 1 }, { after: 2 }]);
    expect(r.stats.snapshotRecords).toBe(3);
    expect(r.stats.tailRecords).toBe(2);

    // Compact again from the reopened log, with a generator and an empty state.
    r.log.compact(
      (function* () {
        yield 'x';
        yield 'y';
      })(),
    );
    r.log.append('z');
    r.log.compact([]);
    r.log.append('w');
    r.log.close();
    const s = open(dir);
    expect(s.snapshot).toEqual([]);
    expect(s.tail).toEqual(['w']);
    expect(s.log.generation()).toBe(3);
    expect(fs.readdirSync(dir).sort()).toEqual([logFileName(3), snapshotFileName(3)]);
  });

  it('detects a torn last record at every byte offset, truncates it, keeps earlier records', () => {
    const dir = tempDir();
    const { log } = open(dir);
    const records = [{ a: 1 }, 'second', [3, 3, 3]];
    for (const r of records) log.append(r);
    const lastStart = log.sizeBytes();
    log.append({ last: 'record with a bit of payload', n: 12345.678, bin: new Uint8Array([9, 8, 7]) });
    const end = log.sizeBytes();
    log.close();
    const file = path.join(dir, logFileName(0));
    const full = fs.readFileSync(file);
    expect(full.length).toBe(end);

    for (let cut = lastStart; cut < end; cut++) {
      fs.writeFileSync(file, full.subarray(0, cut));
      const { logged, logger } = capture();
      const r = open(dir, { logger });
      expect(r.tail).toEqual(records);
      expect(r.stats.truncatedBytes).toBe(cut - lastStart);
      expect(fs.statSync(file).size).toBe(lastStart);
      if (cut > lastStart) {
        const warn = logged.find((l) => l.level === 'warn');
        expect(warn?.fields).toMatchObject({ offset: lastStart, bytes: cut - lastStart });
      } else expect(logged.some((l) => l.level === 'warn')).toBe(false);
      // The recovered log accepts appends and keeps them.
      r.log.append('after recovery');
      r.log.close();
      expect(open(dir).tail).toEqual([...records, 'after recovery']);
    }
  });

  it('a log torn inside its file header recovers as empty', () => {
    const dir = tempDir();
    const { log } = open(dir);
    log.append('lost');
    log.close();
    const file = path.join(dir, logFileName(0));
    const full = fs.readFileSync(file);
    for (let cut = 0; cut < HEADER_BYTES; cut++) {
      fs.writeFileSync(file, full.subarray(0, cut));
      const r = open(dir);
      expect(r.tail).toEqual([]);
      r.log.append('fresh');
      r.log.close();
      expect(open(dir).tail).toEqual(['fresh']);
    }
  });

  it('a zero-filled tail (as left by some filesystems after a crash) is truncated', () => {
    const dir = tempDir();
    const { log } = open(dir);
    log.append('kept');
    log.close();
    const file = path.join(dir, logFileName(0));
    fs.appendFileSync(file, Buffer.alloc(4096));
    const r = open(dir);
    expect(r.tail).toEqual(['kept']);
    expect(r.stats.truncatedBytes).toBe(4096);
  });

  it(
    'random byte corruption never throws and yields a prefix of the written records',
    () => {
      const dir = tempDir();
      const file = path.join(dir, logFileName(0));
      fc.assert(
        fc.property(
          fc.array(recordArb, { minLength: 1, maxLength: 40 }),
          fc.array(fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }), { minLength: 1, maxLength: 4 }),
          fc.boolean(),
          counted('log corruption', (records, flips, cutTail) => {
            for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f));
            const { log } = RecordLog.open(dir, { fsync: INTERVAL });
            const ends: number[] = [];
            for (const r of records) {
              log.append(r);
              ends.push(log.sizeBytes());
            }
            log.close();
            // What an intact reopen yields (msgpack normalizes e.g. -0 to 0).
            const clean = RecordLog.open(dir, { fsync: INTERVAL });
            clean.log.close();
            expect(clean.tail.length).toBe(records.length);

            let bytes = fs.readFileSync(file);
            const length = bytes.length;
            for (const f of flips) {
              const at = f.at % length;
              bytes[at] = bytes[at]! ^ f.xor;
            }
            if (cutTail) bytes = bytes.subarray(0, length - 1);
            fs.writeFileSync(file, bytes);

            let r: OpenResult | undefined;
            expect(() => {
              r = RecordLog.open(dir, { fsync: INTERVAL });
            }).not.toThrow();
            const k = r!.tail.length;
            expect(norm(r!.tail)).toEqual(norm(clean.tail.slice(0, k)));
            // Exactly the records wholly before the first damaged byte survive (none if the
            // file header is damaged), and the file is cut right after them.
            const firstBad = Math.min(...flips.map((f) => f.at % length), cutTail ? length - 1 : Infinity);
            const expectedK = firstBad < HEADER_BYTES ? 0 : ends.filter((e) => e <= firstBad).length;
            expect(k).toBe(expectedK);
            expect(fs.statSync(file).size).toBe(k === 0 ? HEADER_BYTES : ends[k - 1]!);
            expect(r!.stats.truncatedBytes).toBe(
              bytes.length - (k === 0 && firstBad < HEADER_BYTES ? 0 : fs.statSync(file).size),
            );
            r!.log.append('after');
            r!.log.close();
            const again = RecordLog.open(dir, { fsync: INTERVAL });
            again.log.close();
            expect(again.tail.length).toBe(k + 1);
            expect(again.stats.truncatedBytes).toBe(0);
          }),
        ),
        { numRuns: runs(200) },
      );
    },
    fuzzTimeout,
  );

  it(
    'random corruption of a snapshot never throws and never yields a mix',
    () => {
      const dir = tempDir();
      fc.assert(
        fc.property(
          // Distinct offsets: two flips of one byte could cancel out and leave the file intact.
          fc.uniqueArray(fc.record({ at: fc.nat({ max: 4095 }), xor: fc.integer({ min: 1, max: 255 }) }), {
            minLength: 1,
            maxLength: 3,
            selector: (f) => f.at,
          }),
          counted('snapshot corruption', (flips) => {
            for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f));
            const { log } = RecordLog.open(dir, { fsync: INTERVAL });
            log.append('pre');
            log.compact([{ s: 1 }, { s: 2 }, 'three']);
            log.append('post');
            log.close();
            const file = path.join(dir, snapshotFileName(1));
            const bytes = fs.readFileSync(file);
            const offsets = new Set<number>();
            for (const f of flips) {
              const at = f.at % bytes.length;
              if (offsets.has(at)) continue;
              offsets.add(at);
              bytes[at] = bytes[at]! ^ f.xor;
            }
            fs.writeFileSync(file, bytes);
            let r: OpenResult | undefined;
            expect(() => {
              r = RecordLog.open(dir, { fsync: INTERVAL });
            }).not.toThrow();
            r!.log.close();
            // Either the intact snapshot (impossible unless the CRCs collide) or, with generation 0
            // already deleted, an empty state; the unusable files are set aside, not deleted.
            expect(r!.snapshot).toEqual([]);
            expect(r!.tail).toEqual([]);
            expect(fs.readdirSync(dir).filter((f) => f.includes('.corrupt-')).length).toBe(2);
          }),
        ),
        { numRuns: runs(100) },
      );
    },
    fuzzTimeout,
  );

  it(
    'truncation and corruption across snapshot and log generations: never throws, never invents a record, recovers the newest intact snapshot and a prefix of its log',
    () => {
      // A random history of appends and compactions; then the directory as a crash may leave it
      // (the last generation, maybe the previous one too if the crash came before compaction
      // removed it, maybe a torn snapshot.tmp), damaged by truncations, bit flips, zeroed
      // ranges and appended garbage in any of those files. The expectation is computed from the
      // files' bytes alone: the chosen generation is the newest whose snapshot is untouched
      // (generation 0 when none: its snapshot is implicit), and its log keeps exactly the
      // records that end before the first changed byte (none if the file header changed).
      const dir = tempDir();
      const scratch = tempDir();
      const readFiles = (d: string) => new Map(fs.readdirSync(d).map((f) => [f, fs.readFileSync(path.join(d, f))]));
      const writeFiles = (d: string, files: Map<string, Buffer>) => {
        for (const f of fs.readdirSync(d)) fs.rmSync(path.join(d, f));
        for (const [f, b] of files) fs.writeFileSync(path.join(d, f), b);
      };
      /** What an intact directory of these files yields (msgpack normalizes values such as -0). */
      const clean = (files: Map<string, Buffer>) => {
        writeFiles(scratch, files);
        const r = RecordLog.open(scratch, { fsync: INTERVAL });
        r.log.close();
        return { snapshot: r.snapshot, tail: r.tail };
      };
      const op = fc.oneof(
        {
          weight: 3,
          arbitrary: fc.array(recordArb, { minLength: 1, maxLength: 6 }).map((rs) => ({ op: 'append' as const, rs })),
        },
        { weight: 1, arbitrary: fc.array(recordArb, { maxLength: 6 }).map((rs) => ({ op: 'compact' as const, rs })) },
      );
      fc.assert(
        fc.property(
          fc.array(op, { minLength: 1, maxLength: 10 }),
          fc.boolean(),
          fc.option(fc.nat(), { nil: undefined }),
          fc.array(damageArb, { maxLength: 4 }),
          counted('generations: truncation + corruption', (ops, keepPrevious, tmpCut, damages) => {
            for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f));
            const { log } = RecordLog.open(dir, { fsync: INTERVAL });
            // Each generation's files as they were when it was superseded (or at the end), and its log's record ends.
            const gens: Array<{ files: Map<string, Buffer>; ends: number[] }> = [];
            let ends: number[] = [];
            for (const o of ops) {
              if (o.op === 'append') {
                for (const r of o.rs) {
                  log.append(r);
                  ends.push(log.sizeBytes());
                }
              } else {
                log.flush();
                gens[log.generation()] = { files: readFiles(dir), ends };
                log.compact(o.rs);
                ends = [];
              }
            }
            const G = log.generation();
            log.close();
            gens[G] = { files: readFiles(dir), ends };

            const files = new Map(gens[G]!.files);
            const previous = keepPrevious && G > 0 ? G - 1 : undefined;
            if (previous !== undefined) for (const [k, v] of gens[previous]!.files) files.set(k, v);
            if (tmpCut !== undefined) {
              const some = [...files.values()][0]!;
              files.set(`${snapshotFileName(G + 1)}.tmp`, some.subarray(0, tmpCut % (some.length + 1)));
            }
            const oracle = new Map(
              [G, ...(previous !== undefined ? [previous] : [])].map((g) => [g, clean(gens[g]!.files)]),
            );
            const names = [...files.keys()].sort();
            for (const d of damages) {
              const name = names[d.file % names.length]!;
              files.set(name, applyDamage(files.get(name)!, d));
            }
            writeFiles(dir, files);

            let chosen = 0;
            for (const g of [G, ...(previous !== undefined ? [previous] : [])]) {
              if (g === 0) break;
              const name = snapshotFileName(g);
              if (files.get(name)?.equals(gens[g]!.files.get(name)!)) {
                chosen = g;
                break;
              }
            }
            const logName = logFileName(chosen);
            const original = gens[chosen]?.files.get(logName);
            const present = oracle.has(chosen) ? files.get(logName) : undefined;
            let kept = 0;
            if (original && present) {
              const intact = intactPrefix(original, present);
              kept = intact < HEADER_BYTES ? 0 : gens[chosen]!.ends.filter((e) => e <= intact).length;
            }
            const want = {
              snapshot: chosen === 0 ? [] : oracle.get(chosen)!.snapshot,
              tail: present ? oracle.get(chosen)!.tail.slice(0, kept) : [],
            };

            let r: OpenResult | undefined;
            expect(() => {
              r = RecordLog.open(dir, { fsync: INTERVAL });
            }).not.toThrow();
            expect(r!.log.generation()).toBe(chosen);
            expect(norm(r!.snapshot)).toEqual(norm(want.snapshot));
            expect(norm(r!.tail)).toEqual(norm(want.tail));
            // Newer, unusable files are set aside, never deleted; no .tmp survives.
            const after = fs.readdirSync(dir);
            for (const name of names) {
              const m = /^(?:snapshot|log)-(\d+)$/.exec(name);
              if (m && Number(m[1]) > chosen)
                expect(
                  after.some((f) => f.startsWith(`${name}.corrupt-`)),
                  `${name} set aside`,
                ).toBe(true);
            }
            expect(after.filter((f) => f.endsWith('.tmp'))).toEqual([]);
            // The recovered state is durable and the log keeps working.
            r!.log.append('after');
            r!.log.close();
            const again = RecordLog.open(dir, { fsync: INTERVAL });
            again.log.close();
            expect(norm(again.snapshot)).toEqual(norm(want.snapshot));
            expect(norm(again.tail)).toEqual(norm([...want.tail, 'after']));
            expect(again.stats.truncatedBytes).toBe(0);
          }),
        ),
        { numRuns: runs(50) },
      );
    },
    fuzzTimeout,
  );

  it(
    'directories of garbage files, with valid-looking headers, frames and footers, never throw and never yield a record',
    () => {
      // Files named like ours (and some almost like ours: leading zeros, out of range) whose
      // headers are valid or nearly so, with frames that are each wrong in one way (checksum,
      // zero or huge length, past the end, a payload msgpack cannot decode), random noise, and
      // valid or damaged footers. Nothing in them was ever appended, so nothing may come back.
      const dir = tempDir();
      const special = [
        'snapshot-01',
        'log-007',
        'snapshot-99999999999999999999',
        'log-4294967296',
        'snapshot-4294967297',
        'log-',
        'snapshot--1',
        'log-1.corrupt-5',
        'README',
        'snapshot-1x',
      ];
      const nameArb = fc.oneof(
        fc
          .tuple(fc.constantFrom('snapshot', 'log'), fc.integer({ min: 0, max: 4 }))
          .map(([kind, gen]) => ({ name: `${kind}-${gen}`, kind, gen })),
        fc.integer({ min: 0, max: 4 }).map((gen) => ({ name: `snapshot-${gen}.tmp`, kind: 'snapshot', gen })),
        fc
          .constantFrom(...special)
          .map((name) => ({ name, kind: name.startsWith('log') ? 'log' : 'snapshot', gen: 1 })),
      );
      const fileArb = fc.record({
        at: nameArb,
        header: fc.constantFrom('valid', 'valid', 'wrongGen', 'wrongKind', 'wrongVersion', 'badCrc', 'torn', 'none'),
        frames: fc.array(
          fc.record({
            payload: fc.uint8Array({ minLength: 1, maxLength: 40 }),
            how: fc.constantFrom('badCrc', 'zeroLength', 'tooLong', 'undecodable', 'pastEnd'),
          }),
          { maxLength: 4 },
        ),
        noise: fc.uint8Array({ maxLength: 64 }),
        footer: fc.constantFrom('none', 'valid', 'wrongCount', 'badCrc', 'wrongGen'),
      });
      fc.assert(
        fc.property(
          fc.uniqueArray(fileArb, { maxLength: 6, selector: (f) => f.at.name }),
          counted('garbage files', (specs) => {
            for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f));
            for (const f of specs) {
              const kind = f.at.kind === 'log' ? KIND_LOG : KIND_SNAPSHOT;
              const header =
                f.header === 'valid'
                  ? fileHeader(kind, f.at.gen)
                  : f.header === 'wrongGen'
                    ? fileHeader(kind, f.at.gen + 1)
                    : f.header === 'wrongKind'
                      ? fileHeader(kind === KIND_LOG ? KIND_SNAPSHOT : KIND_LOG, f.at.gen)
                      : f.header === 'wrongVersion'
                        ? fileHeader(kind, f.at.gen, 2)
                        : f.header === 'badCrc'
                          ? (() => {
                              const h = fileHeader(kind, f.at.gen);
                              h[12]! ^= 1;
                              return h;
                            })()
                          : f.header === 'torn'
                            ? fileHeader(kind, f.at.gen).subarray(0, 7)
                            : Buffer.alloc(0);
              const frames = f.frames.map(({ payload, how }) => {
                const p =
                  how === 'undecodable'
                    ? Buffer.from(payload[0]! % 2 ? [0x92, 0x01] : [0x01, 0x02])
                    : Buffer.from(payload);
                const frame = Buffer.alloc(8);
                frame.writeUInt32LE(
                  how === 'zeroLength'
                    ? 0
                    : how === 'tooLong'
                      ? 0xffffffff
                      : how === 'pastEnd'
                        ? p.length + 1000
                        : p.length,
                  0,
                );
                frame.writeUInt32LE(how === 'badCrc' ? (crc32(p) ^ 1) >>> 0 : crc32(p), 4);
                return Buffer.concat([frame, how === 'zeroLength' ? Buffer.alloc(0) : p]);
              });
              const body = Buffer.concat([...frames, Buffer.from(f.noise)]);
              const footer =
                f.footer === 'valid'
                  ? fileFooter(f.at.gen, frames.length, body.length)
                  : f.footer === 'wrongCount'
                    ? fileFooter(f.at.gen, frames.length + 1, body.length)
                    : f.footer === 'wrongGen'
                      ? fileFooter(f.at.gen + 1, frames.length, body.length)
                      : f.footer === 'badCrc'
                        ? (() => {
                            const b = fileFooter(f.at.gen, frames.length, body.length);
                            b[28]! ^= 1;
                            return b;
                          })()
                        : Buffer.alloc(0);
              fs.writeFileSync(path.join(dir, f.at.name), Buffer.concat([header, body, footer]));
            }
            let r: OpenResult | undefined;
            expect(() => {
              r = RecordLog.open(dir, { fsync: INTERVAL });
            }).not.toThrow();
            expect(r!.snapshot).toEqual([]);
            expect(r!.tail).toEqual([]);
            const names = fs.readdirSync(dir);
            expect(names.filter((n) => n.endsWith('.tmp'))).toEqual([]);
            // Names that are not generations of this log are left alone.
            for (const f of specs)
              if (special.includes(f.at.name) && !/^(snapshot|log)-[1-9]\d*$/.test(f.at.name))
                expect(names).toContain(f.at.name);
            r!.log.append('after');
            r!.log.close();
            const again = RecordLog.open(dir, { fsync: INTERVAL });
            again.log.close();
            expect(again.snapshot).toEqual([]);
            expect(again.tail).toEqual(['after']);
          }),
        ),
        { numRuns: runs(100) },
      );
    },
    fuzzTimeout,
  );

  it('files named like generations but with leading zeros or out of range are ignored, not opened as another name (open threw ENOENT)', () => {
    for (const name of ['snapshot-01', 'log-007', 'snapshot-99999999999999999999', 'log-99999999999999999999']) {
      const dir = tempDir();
      const { log } = open(dir);
      log.append('kept');
      log.close();
      fs.writeFileSync(path.join(dir, name), 'junk');
      const { logged, logger } = capture();
      const r = open(dir, { logger });
      expect(r.tail).toEqual(['kept']);
      expect(fs.readdirSync(dir)).toContain(name);
      expect(logged.some((l) => l.level === 'warn' && l.fields?.file === name)).toBe(true);
    }
  });

  describe('crash during compaction', () => {
    // Generation 1 = snapshot S1 + log L1; compacting it yields snapshot-2. Every crash point
    // leaves a combination of those files; the state must be old or new, never a mix.
    function scenario(): { before: Map<string, Buffer>; snap2: Buffer; dir: string } {
      const dir = tempDir();
      const { log } = open(dir);
      log.append('g0');
      log.compact(['s1-a', 's1-b']);
      log.append('l1-a');
      log.append('l1-b');
      log.flush();
      const before = new Map(fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f))]));
      log.compact(Array.from({ length: 20 }, (_, i) => ({ new: i })));
      log.close();
      const snap2 = fs.readFileSync(path.join(dir, snapshotFileName(2)));
      return { before, snap2, dir };
    }
    const OLD = { snapshot: ['s1-a', 's1-b'], tail: ['l1-a', 'l1-b'] };
    const NEW = { snapshot: Array.from({ length: 20 }, (_, i) => ({ new: i })), tail: [] };
    function restore(dir: string, files: Map<string, Buffer>): void {
      for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f));
      for (const [f, b] of files) fs.writeFileSync(path.join(dir, f), b);
    }
    function state(dir: string): { snapshot: unknown[]; tail: unknown[] } {
      const r = open(dir);
      r.log.close();
      return { snapshot: r.snapshot, tail: r.tail };
    }

    it('a partial or complete snapshot.tmp (every length) is ignored and removed', () => {
      const { before, snap2, dir } = scenario();
      for (let len = 0; len <= snap2.length; len++) {
        restore(dir, before);
        fs.writeFileSync(path.join(dir, `${snapshotFileName(2)}.tmp`), snap2.subarray(0, len));
        expect(state(dir)).toEqual(OLD);
        expect(fs.readdirSync(dir).sort()).toEqual([logFileName(1), snapshotFileName(1)]);
      }
    });

    it('an installed snapshot without its footer (every length) falls back to the previous generation', () => {
      const { before, snap2, dir } = scenario();
      for (let len = 0; len < snap2.length; len++) {
        restore(dir, before);
        fs.writeFileSync(path.join(dir, snapshotFileName(2)), snap2.subarray(0, len));
        const { logged, logger } = capture();
        const r = open(dir, { logger });
        r.log.close();
        expect({ snapshot: r.snapshot, tail: r.tail }).toEqual(OLD);
        expect(logged.some((l) => l.level === 'warn' && l.msg.includes('invalid snapshot'))).toBe(true);
        // Compacting again afterwards works and supersedes everything.
        const again = open(dir);
        again.log.compact(['fresh']);
        again.log.close();
        expect(state(dir)).toEqual({ snapshot: ['fresh'], tail: [] });
      }
      expect(snap2.length).toBeGreaterThan(HEADER_BYTES + FOOTER_BYTES);
    });

    it('after the rename: the new snapshot wins, stale files are deleted, whatever else survived', () => {
      const { before, snap2, dir } = scenario();
      const newLog = fs.readFileSync(path.join(dir, logFileName(2)));
      const variants: Array<Record<string, Buffer | undefined>> = [
        {}, // crash right after rename (no new log yet)
        { [logFileName(2)]: newLog.subarray(0, 5) }, // new log with a torn header
        { [logFileName(2)]: newLog }, // new log complete, old files not yet deleted
        { [logFileName(2)]: newLog, [logFileName(1)]: undefined }, // old log deleted, old snapshot not
      ];
      for (const v of variants) {
        const files = new Map(before);
        files.set(snapshotFileName(2), snap2);
        for (const [k, b] of Object.entries(v)) {
          if (b) files.set(k, b);
          else files.delete(k);
        }
        restore(dir, files);
        expect(state(dir)).toEqual(NEW);
        expect(fs.readdirSync(dir).sort()).toEqual([logFileName(2), snapshotFileName(2)]);
      }
    });

    it('a failing iterable or an oversized record aborts compaction without changing anything', () => {
      const dir = tempDir();
      const { log } = open(dir, { recordBytesMax: 1000 });
      log.append('a');
      expect(() =>
        log.compact(
          (function* () {
            yield 'ok';
            throw new Error('boom');
          })(),
        ),
      ).toThrow('boom');
      expect(() => log.compact(['ok', 'x'.repeat(2000)])).toThrow(RangeError);
      log.append('b');
      log.close();
      expect(fs.readdirSync(dir)).toEqual([logFileName(0)]);
      const r = open(dir, { recordBytesMax: 1000 });
      expect(r.snapshot).toEqual([]);
      expect(r.tail).toEqual(['a', 'b']);
    });
  });

  it('onRecord gets the snapshot, then the tail, in order (arrays empty); a corrupt snapshot passes nothing', () => {
    const dir = tempDir();
    const { log } = open(dir);
    log.compact([{ s: 1 }, { s: 2 }]);
    log.append({ t: 1 });
    log.compact([{ s: 'a' }, { s: 'b' }, { s: 'c' }]);
    log.append({ t: 'x' });
    log.appendMany([{ t: 'y' }, { t: 'z' }]);
    log.close();
    const seen: unknown[] = [];
    const r = open(dir, { onRecord: (rec) => seen.push(rec) });
    expect(seen).toEqual([{ s: 'a' }, { s: 'b' }, { s: 'c' }, { t: 'x' }, { t: 'y' }, { t: 'z' }]);
    expect(r.snapshot).toEqual([]);
    expect(r.tail).toEqual([]);
    expect(r.stats.snapshotRecords).toBe(3);
    expect(r.stats.tailRecords).toBe(3);
    r.log.compact([{ s: 'new' }]);
    r.log.close();
    // Flip a byte inside the newest snapshot's last record: it is ignored whole, generation 0 is empty.
    const file = path.join(dir, snapshotFileName(3));
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - FOOTER_BYTES - 2]! ^= 0xff;
    fs.writeFileSync(file, bytes);
    const again: unknown[] = [];
    const c = open(dir, { onRecord: (rec) => again.push(rec) });
    expect(again).toEqual([]);
    expect(c.stats.snapshotRecords).toBe(0);
  });

  it('appendMany writes its records in order, between appends, and a reopen reads them back', () => {
    const dir = tempDir();
    const { log } = open(dir);
    log.append('first');
    const before = log.sizeBytes();
    log.appendMany([{ a: 1 }, 'two', [3, 'three'], { b: 2 }]);
    expect(log.sizeBytes()).toBeGreaterThan(before);
    log.appendMany([]);
    log.append('last');
    log.close();
    const r = open(dir);
    expect(r.tail).toEqual(['first', { a: 1 }, 'two', [3, 'three'], { b: 2 }, 'last']);
    expect(r.stats.tailRecords).toBe(6);
  });

  it('appendMany with one record over recordBytesMax writes none of them', () => {
    const dir = tempDir();
    const { log } = open(dir, { recordBytesMax: 100 });
    log.append('kept');
    const size = log.sizeBytes();
    expect(() => log.appendMany(['ok', 'x'.repeat(200), 'also ok'])).toThrow(RangeError);
    expect(log.sizeBytes()).toBe(size);
    log.appendMany(['after']);
    log.close();
    expect(open(dir, { recordBytesMax: 100 }).tail).toEqual(['kept', 'after']);
  });

  it('enforces recordBytesMax on append and writes nothing for a rejected record', () => {
    const dir = tempDir();
    const { log } = open(dir, { recordBytesMax: 100 });
    log.append('x'.repeat(90)); // 92 bytes encoded
    const size = log.sizeBytes();
    expect(() => log.append('x'.repeat(200))).toThrow(RangeError);
    expect(() => log.append({ big: new Uint8Array(101) })).toThrow(RangeError);
    expect(log.sizeBytes()).toBe(size);
    log.append('small');
    log.close();
    expect(open(dir, { recordBytesMax: 100 }).tail).toEqual(['x'.repeat(90), 'small']);
    // Default limit: 1 MiB.
    const d2 = tempDir();
    const big = open(d2);
    big.log.append(new Uint8Array(1024 * 1024 - 10));
    expect(() => big.log.append(new Uint8Array(1024 * 1024 + 1))).toThrow(RangeError);
    big.log.close();
    expect(open(d2).tail.length).toBe(1);
  });

  it('interval fsyncs run off the event loop: compactions and a close during one keep the log usable', async () => {
    const dir = tempDir();
    const { log } = open(dir, { fsync: { mode: 'interval', intervalMs: 1 } });
    let n = 0;
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 20; i++) log.append(n++);
      await new Promise((r) => setTimeout(r, 2)); // a timer sync starts (in the thread pool)
      if (round % 4 === 3) {
        log.compact(Array.from({ length: n }, (_, i) => i)); // replaces the file a sync may be running on
      }
    }
    for (let i = 0; i < 5; i++) log.append(n++); // the log did not fail: an fsync of a replaced file is ignored
    log.close(); // during a running sync: its descriptor closes when the sync is done
    await new Promise((r) => setTimeout(r, 20));
    const r = open(dir, { fsync: { mode: 'interval', intervalMs: 1 } });
    expect([...r.snapshot, ...r.tail]).toEqual(Array.from({ length: n }, (_, i) => i));
    r.log.close();
  });

  it('both fsync policies produce readable logs; close() flushes; closed logs refuse use', async () => {
    for (const fsync of [{ mode: 'always' }, { mode: 'interval', intervalMs: 10 }] as FsyncPolicy[]) {
      const dir = tempDir();
      const { log } = open(dir, { fsync });
      for (let i = 0; i < 50; i++) log.append({ i, fsync: fsync.mode });
      if (fsync.mode === 'interval') await new Promise((r) => setTimeout(r, 30)); // let the timer sync
      log.append('last');
      log.flush();
      log.append('after flush');
      log.close();
      log.close(); // idempotent
      expect(() => log.append('x')).toThrow(/closed/);
      expect(() => log.flush()).toThrow(/closed/);
      const r = open(dir, { fsync });
      expect(r.tail.length).toBe(52);
      expect(r.tail[51]).toBe('after flush');
    }
    expect(() => RecordLog.open(tempDir(), { fsync: { mode: 'interval', intervalMs: 0 } })).toThrow(RangeError);
  });

  it('ignores unrelated files and sets aside logs newer than the recovered snapshot', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'README'), 'not ours');
    const { log } = open(dir);
    log.append('a');
    log.close();
    fs.writeFileSync(path.join(dir, logFileName(7)), 'orphan');
    const { logged, logger } = capture();
    const r = open(dir, { logger });
    expect(r.tail).toEqual(['a']);
    expect(logged.some((l) => l.level === 'warn' && l.fields?.file === logFileName(7))).toBe(true);
    const names = fs.readdirSync(dir);
    expect(names).toContain('README');
    expect(names.some((n) => n.startsWith(`${logFileName(7)}.corrupt-`))).toBe(true);
  });

  it('crc32 matches the table implementation and the standard check value', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32Js(Buffer.from('123456789'))).toBe(0xcbf43926);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => crc32(b) === crc32Js(b)),
      { numRuns: runs(100) },
    );
  });
});
