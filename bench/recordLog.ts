// Record log throughput: append N ring-entry-shaped records with the interval fsync policy,
// replay them with open(), compact them into a snapshot and reopen; plus a short run with
// fsync 'always' to show the per-record flush cost. Runs in a fresh directory under
// os.tmpdir() unless --dir is given (point it at the disk DATA_DIR will use).
//
// npx tsx bench/recordLog.ts [--records 100000] [--always 2000] [--interval-ms 100] [--dir D] [--json]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { RecordLog } from '../server/durability/recordLog';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '100000' },
    always: { type: 'string', default: '2000' },
    'interval-ms': { type: 'string', default: '100' },
    dir: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const total = Number(values.records);
const alwaysCount = Number(values.always);
const intervalMs = Number(values['interval-ms']);
const base = fs.mkdtempSync(path.join(values.dir ?? os.tmpdir(), 'ringlink-bench-recordlog-'));

function entry(i: number): unknown {
  const node = `n${i % 5}@ab12.${i % 3}`;
  const code = i.toString(36).padStart(7, '0');
  return {
    t: 's',
    p: i % 64,
    k: `link/${code}`,
    e: {
      k: 'r',
      vv: { [node]: (i % 9) + 1 },
      s: [
        {
          d: [node, (i % 9) + 1],
          v: {
            url: `https://example.com/some/path?x=${i}`,
            owner: `sess:${(i * 2654435761).toString(16).padStart(16, '0').slice(-16)}`,
          },
          at: 1_700_000_000_000 + i,
        },
      ],
    },
  };
}

const ms = (a: number): number => Math.round((performance.now() - a) * 10) / 10;
const perSec = (n: number, millis: number): number => Math.round(n / (millis / 1000));
const mib = (b: number): number => Math.round((b / 1024 / 1024) * 100) / 100;

try {
  // 1. Appends, interval policy.
  const dirA = path.join(base, 'interval');
  const records = Array.from({ length: total }, (_, i) => entry(i));
  const a = RecordLog.open(dirA, { fsync: { mode: 'interval', intervalMs } }).log;
  let t = performance.now();
  for (const r of records) a.append(r);
  a.flush();
  const appendMs = ms(t);
  const logBytes = a.sizeBytes();
  a.close();

  // 2. Replay.
  t = performance.now();
  const replay = RecordLog.open(dirA, { fsync: { mode: 'interval', intervalMs } });
  const replayMs = ms(t);
  if (replay.tail.length !== total) throw new Error(`replayed ${replay.tail.length} of ${total}`);

  // 3. Compaction of the replayed state into a snapshot, then reopen.
  t = performance.now();
  replay.log.compact(replay.tail);
  const compactMs = ms(t);
  replay.log.close();
  const snapshotBytes = fs.statSync(path.join(dirA, 'snapshot-1')).size;
  t = performance.now();
  const reopened = RecordLog.open(dirA, { fsync: { mode: 'interval', intervalMs } });
  const reopenMs = ms(t);
  reopened.log.close();
  if (reopened.snapshot.length !== total) throw new Error(`snapshot holds ${reopened.snapshot.length} of ${total}`);

  // 4. fsync 'always', a shorter run.
  const b = RecordLog.open(path.join(base, 'always'), { fsync: { mode: 'always' } }).log;
  t = performance.now();
  for (let i = 0; i < alwaysCount; i++) b.append(records[i % total]);
  const alwaysMs = ms(t);
  b.close();

  const result = {
    records: total,
    recordBytesAvg: Math.round((logBytes - 16) / total),
    interval: { intervalMs, appendMs, appendsPerSec: perSec(total, appendMs), logBytes, logMiB: mib(logBytes) },
    replay: { millis: replayMs, recordsPerSec: perSec(total, replayMs), bytesRead: replay.stats.bytesRead },
    compact: {
      millis: compactMs,
      recordsPerSec: perSec(total, compactMs),
      snapshotBytes,
      snapshotMiB: mib(snapshotBytes),
    },
    reopen: { millis: reopenMs, recordsPerSec: perSec(total, reopenMs) },
    always: { records: alwaysCount, millis: alwaysMs, appendsPerSec: perSec(alwaysCount, alwaysMs) },
    dir: values.dir ?? os.tmpdir(),
  };

  if (values.json) console.log(JSON.stringify(result, null, 2));
  else {
    const rows: Array<[string, string, string]> = [
      [
        'append (interval ' + intervalMs + ' ms)',
        `${result.interval.appendsPerSec.toLocaleString('en-US')} rec/s`,
        `${appendMs} ms, log ${result.interval.logMiB} MiB (${result.recordBytesAvg} B/record)`,
      ],
      ['open: replay log', `${result.replay.recordsPerSec.toLocaleString('en-US')} rec/s`, `${replayMs} ms`],
      [
        'compact: write snapshot',
        `${result.compact.recordsPerSec.toLocaleString('en-US')} rec/s`,
        `${compactMs} ms, snapshot ${result.compact.snapshotMiB} MiB`,
      ],
      ['open: read snapshot', `${result.reopen.recordsPerSec.toLocaleString('en-US')} rec/s`, `${reopenMs} ms`],
      [
        `append (always, ${alwaysCount})`,
        `${result.always.appendsPerSec.toLocaleString('en-US')} rec/s`,
        `${alwaysMs} ms`,
      ],
    ];
    console.log(`record log, ${total.toLocaleString('en-US')} ring-entry records, dir ${result.dir}`);
    const w0 = Math.max(...rows.map((r) => r[0].length));
    const w1 = Math.max(...rows.map((r) => r[1].length));
    for (const [x, y, z] of rows) console.log(`  ${x.padEnd(w0)}  ${y.padStart(w1)}  ${z}`);
  }
} finally {
  fs.rmSync(base, { recursive: true, force: true });
}
