// Crash-safe, append-only record log with snapshots: the durability layer of a node when
// DATA_DIR is set. Generic: it stores opaque msgpack-encodable records and knows nothing of
// the ring (the server layer maps ring state to records and back).
//
// Durability policy
// -----------------
// Every append is written with a synchronous write(2) on an open fd, so when append()
// returns the record is in the OS page cache: a process crash (exception, OOM kill,
// kill -9) never loses an appended record. What fsync adds is survival of a power failure
// or kernel crash:
//   - { mode: 'always' }: fdatasync after every append. Nothing acknowledged is lost, at the
//     cost of one disk flush per record (milliseconds on most disks).
//   - { mode: 'interval', intervalMs }: an unref'd timer fdatasyncs every intervalMs when
//     something was written; flush() and close() fdatasync immediately. Records appended
//     within the last intervalMs (plus the flush itself) can be lost on power failure or
//     kernel crash, never on a process crash. The timer's fdatasync runs in libuv's thread
//     pool (fs.fdatasync), so the event loop keeps serving while the disk flushes (a
//     synchronous one held it for milliseconds every interval under load); a tick while
//     one is still running skips, and a file replaced or closed meanwhile is closed
//     once it is done.
// The server should use DEFAULT_FSYNC_POLICY = { mode: 'interval', intervalMs: 100 } (the
// FSYNC / FSYNC_INTERVAL_MS defaults in server/config.ts): each key lives on N replicas and
// anti-entropy repairs a replica that lost its last 100 ms, so per-record fsync buys little
// except when W nodes lose power within the same window.
//
// An fsync failure (EIO...) is not retried: after a failed fsync the kernel may have dropped
// the dirty pages and a retry can falsely succeed. The log becomes failed: append() and
// flush() throw the stored error (the timer logs it). A successful compact() clears the
// failure, since it rewrites the complete state into new, fsynced files.
//
// On-disk format (all integers little endian)
// -------------------------------------------
// Directory files, <gen> a decimal generation number (no leading zeros; other names are ignored):
//   snapshot-<gen>       complete snapshot of generation gen (absent for generation 0)
//   snapshot-<gen>.tmp   snapshot being written (deleted on open)
//   log-<gen>            records appended after snapshot-<gen>
// Every file starts with a 16-byte header:
//   'RLNK' | u8 version (1) | u8 kind ('L' log, 'S' snapshot) | u16 0 | u32 gen | u32 crc32 of bytes 0..11
// then records, each framed as
//   u32 payload length | u32 crc32(payload) | payload (msgpack, 1..recordBytesMax bytes)
// A snapshot ends with a 32-byte footer, written last:
//   'RLNKSEND' | u32 gen | u64 record count | u64 body bytes (after the header, before the
//   footer) | u32 crc32 of footer bytes 0..27
//
// Recovery (RecordLog.open)
// -------------------------
// 1. Delete every snapshot-*.tmp (an interrupted compaction).
// 2. Pick the newest generation whose snapshot is valid: header ok with matching gen, footer
//    ok, every record's length and CRC ok, count and body size equal to the footer's.
//    Generation 0 has an implicit empty snapshot and is the fallback.
// 3. Replay log-<gen> (missing -> created empty). Stop at the first record whose length is
//    0, > recordBytesMax or past the end of the file, whose CRC fails or whose payload does
//    not decode; truncate the file there (warning with offset and byte count) and fdatasync.
//    A log with a torn or foreign header is reset to an empty log.
// 4. Files of older generations are stale (superseded by the chosen snapshot): deleted.
//    Files of newer generations that could not be used (a corrupt snapshot, a log without
//    its snapshot) are renamed to <name>.corrupt-<timestamp>, kept for inspection.
// Corrupt data never throws; I/O errors (permissions, disk) do.
// Caveat: recordBytesMax is also the read-side limit; lowering it below the size of records
// already on disk makes them look corrupt.
//
// Compaction (compact) of generation g into g+1: write snapshot-<g+1>.tmp, fdatasync, rename
// to snapshot-<g+1>, fsync the directory, create log-<g+1> (header, fdatasync, fsync the
// directory), switch appends to it, then delete generation g's files. A crash before the
// rename leaves generation g intact (snapshot + log); after it, snapshot-<g+1> is complete
// and supersedes g's files, which open() deletes if compaction did not get to it.
//
// Not handled: two processes opening the same directory (the server runs one per DATA_DIR).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { Packr } from 'msgpackr';

export type FsyncPolicy = { mode: 'always' } | { mode: 'interval'; intervalMs: number };

export interface RecordLogLogger {
  warn(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
}

export interface RecordLogOptions {
  fsync: FsyncPolicy;
  /** Largest encoded record accepted by append (bytes); larger -> throws RangeError. */
  recordBytesMax?: number; // default 1 MiB
  logger?: RecordLogLogger;
  /**
   * Receive each recovered record, in order (the snapshot's, then the log's), as open() reads
   * it, instead of in OpenResult's arrays (then empty): a large state is never held both as
   * records and as what they rebuild. A snapshot is checked whole (frames, CRCs, footer) before
   * its first record is passed on, so a corrupt one passes nothing and an older one is used.
   */
  onRecord?: (record: unknown) => void;
}

export interface OpenResult {
  log: RecordLog;
  /** Records of the last complete snapshot, in order (empty with RecordLogOptions.onRecord). */
  snapshot: unknown[];
  /** Records appended after that snapshot, in order, up to the first torn or corrupt record (idem). */
  tail: unknown[];
  stats: { snapshotRecords: number; tailRecords: number; bytesRead: number; truncatedBytes: number; millis: number };
}

/** The policy the server should use (see the file header for its loss window). */
export const DEFAULT_FSYNC_POLICY: FsyncPolicy = { mode: 'interval', intervalMs: 100 };
export const DEFAULT_RECORD_BYTES_MAX = 1024 * 1024;

export const HEADER_BYTES = 16;
export const FRAME_BYTES = 8;
export const FOOTER_BYTES = 32;
const MAGIC = Buffer.from('RLNK', 'latin1');
const FOOTER_MAGIC = Buffer.from('RLNKSEND', 'latin1');
const VERSION = 1;
const KIND_LOG = 0x4c; // 'L'
const KIND_SNAPSHOT = 0x53; // 'S'
const READ_CHUNK = 4 * 1024 * 1024;
const WRITE_CHUNK = 1024 * 1024;

export const snapshotFileName = (gen: number): string => `snapshot-${gen}`;
export const logFileName = (gen: number): string => `log-${gen}`;
const SNAPSHOT_RE = /^snapshot-(\d+)$/;
const SNAPSHOT_TMP_RE = /^snapshot-(\d+)\.tmp$/;
const LOG_RE = /^log-(\d+)$/;

// ---------------------------------------------------------------------------------------
// CRC-32 (IEEE, the zlib one): node:zlib's native crc32 when present (Node >= 20.15),
// otherwise a table-driven implementation with the same results.

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32Js(data: Uint8Array, value = 0): number {
  let c = (value ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
export const crc32: (data: Uint8Array) => number =
  typeof nativeCrc32 === 'function' ? (data) => nativeCrc32(data) >>> 0 : (data) => crc32Js(data);

// ---------------------------------------------------------------------------------------

// useRecords: false keeps every payload self-contained (no shared structures);
// copyBuffers: decoded binaries must not alias the reusable read buffer.
const packr = new Packr({ useRecords: false, variableMapSize: true, copyBuffers: true, mapsAsObjects: true });

const noopLogger: RecordLogLogger = { warn() {}, info() {} };

function encodeHeader(kind: number, gen: number): Buffer {
  const b = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(b, 0);
  b.writeUInt8(VERSION, 4);
  b.writeUInt8(kind, 5);
  b.writeUInt16LE(0, 6);
  b.writeUInt32LE(gen >>> 0, 8);
  b.writeUInt32LE(crc32(b.subarray(0, 12)), 12);
  return b;
}

function headerValid(b: Buffer, kind: number, gen: number): boolean {
  return (
    b.length >= HEADER_BYTES &&
    b.compare(MAGIC, 0, 4, 0, 4) === 0 &&
    b.readUInt8(4) === VERSION &&
    b.readUInt8(5) === kind &&
    b.readUInt32LE(8) === gen >>> 0 &&
    b.readUInt32LE(12) === crc32(b.subarray(0, 12))
  );
}

function writeU64(b: Buffer, v: number, at: number): void {
  b.writeUInt32LE(v % 0x1_0000_0000, at);
  b.writeUInt32LE(Math.floor(v / 0x1_0000_0000), at + 4);
}
function readU64(b: Buffer, at: number): number {
  return b.readUInt32LE(at) + b.readUInt32LE(at + 4) * 0x1_0000_0000;
}

function encodeFooter(gen: number, count: number, bodyBytes: number): Buffer {
  const b = Buffer.alloc(FOOTER_BYTES);
  FOOTER_MAGIC.copy(b, 0);
  b.writeUInt32LE(gen >>> 0, 8);
  writeU64(b, count, 12);
  writeU64(b, bodyBytes, 20);
  b.writeUInt32LE(crc32(b.subarray(0, 28)), 28);
  return b;
}

function decodeFooter(b: Buffer, gen: number): { count: number; bodyBytes: number } | undefined {
  if (b.length !== FOOTER_BYTES) return undefined;
  if (b.compare(FOOTER_MAGIC, 0, 8, 0, 8) !== 0) return undefined;
  if (b.readUInt32LE(28) !== crc32(b.subarray(0, 28))) return undefined;
  if (b.readUInt32LE(8) !== gen >>> 0) return undefined;
  return { count: readU64(b, 12), bodyBytes: readU64(b, 20) };
}

function readExactly(fd: number, length: number, position: number): Buffer {
  const b = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, b, done, length - done, position + done);
    if (n === 0) return b.subarray(0, done);
    done += n;
  }
  return b;
}

function writeAll(fd: number, b: Uint8Array, position: number): void {
  let done = 0;
  while (done < b.length) done += fs.writeSync(fd, b, done, b.length - done, position + done);
}

function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = fs.openSync(dir, 'r');
  } catch (err) {
    if (process.platform === 'win32') return; // directories cannot be opened for fsync there
    throw err;
  }
  try {
    fs.fsyncSync(fd);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!(code === 'EISDIR' || code === 'EINVAL' || code === 'EPERM') || process.platform !== 'win32') throw err;
  } finally {
    fs.closeSync(fd);
  }
}

type ScanStop = { offset: number; reason: string };

/**
 * Reads frames from `start` to `end` (exclusive), calling onRecord with each decoded record
 * (with undefined and without decoding when `decode` is false: a check of lengths and CRCs).
 * Returns where it stopped: `end` and reason '' when everything was valid, else the offset of
 * the first bad frame and why.
 */
function scanFrames(
  fd: number,
  start: number,
  end: number,
  recordBytesMax: number,
  onRecord: (record: unknown) => void,
  decode = true,
): ScanStop {
  const buf = Buffer.allocUnsafe(Math.max(READ_CHUNK, FRAME_BYTES + recordBytesMax));
  let bufPos = start; // file offset of buf[0]
  let bufLen = 0;
  let at = start; // file offset of the next frame
  // Makes buf hold at least `need` bytes from file offset `at` (caller checked they exist).
  const ensure = (need: number): void => {
    if (at + need <= bufPos + bufLen) return;
    const keep = bufPos + bufLen - at;
    if (keep > 0) buf.copy(buf, 0, at - bufPos, at - bufPos + keep);
    bufPos = at;
    bufLen = Math.max(keep, 0);
    const want = Math.min(buf.length - bufLen, end - (bufPos + bufLen));
    let got = 0;
    while (got < want) {
      const n = fs.readSync(fd, buf, bufLen + got, want - got, bufPos + bufLen + got);
      if (n === 0) break;
      got += n;
    }
    bufLen += got;
  };
  while (at < end) {
    if (end - at < FRAME_BYTES) return { offset: at, reason: 'torn frame header' };
    ensure(FRAME_BYTES);
    if (at + FRAME_BYTES > bufPos + bufLen) return { offset: at, reason: 'short read' };
    const o = at - bufPos;
    const len = buf.readUInt32LE(o);
    const crc = buf.readUInt32LE(o + 4);
    if (len === 0) return { offset: at, reason: 'zero length' };
    if (len > recordBytesMax) return { offset: at, reason: 'length exceeds recordBytesMax' };
    if (at + FRAME_BYTES + len > end) return { offset: at, reason: 'record extends past end of file' };
    ensure(FRAME_BYTES + len);
    if (at + FRAME_BYTES + len > bufPos + bufLen) return { offset: at, reason: 'short read' };
    const p = at - bufPos + FRAME_BYTES;
    const payload = buf.subarray(p, p + len);
    if (crc32(payload) !== crc) return { offset: at, reason: 'crc mismatch' };
    let record: unknown;
    try {
      if (decode) record = packr.unpack(payload);
    } catch {
      return { offset: at, reason: 'undecodable payload' };
    }
    onRecord(record);
    at += FRAME_BYTES + len;
  }
  return { offset: at, reason: '' };
}

type SnapshotRead = { ok: true; records: unknown[]; count: number; bytes: number } | { ok: false; reason: string };

function readSnapshot(
  file: string,
  gen: number,
  recordBytesMax: number,
  visit: ((record: unknown) => void) | undefined,
): SnapshotRead {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    if (size < HEADER_BYTES + FOOTER_BYTES) return { ok: false, reason: 'too short' };
    if (!headerValid(readExactly(fd, HEADER_BYTES, 0), KIND_SNAPSHOT, gen)) return { ok: false, reason: 'bad header' };
    const footer = decodeFooter(readExactly(fd, FOOTER_BYTES, size - FOOTER_BYTES), gen);
    if (!footer) return { ok: false, reason: 'missing or bad footer' };
    const bodyEnd = size - FOOTER_BYTES;
    if (footer.bodyBytes !== bodyEnd - HEADER_BYTES) return { ok: false, reason: 'footer body size mismatch' };
    const records: unknown[] = [];
    let count = 0;
    // With a visitor: check every frame first (no decoding), then decode and pass each on.
    const stop = scanFrames(
      fd,
      HEADER_BYTES,
      bodyEnd,
      recordBytesMax,
      (r) => (visit ? count++ : (count = records.push(r))),
      !visit,
    );
    if (stop.reason) return { ok: false, reason: `${stop.reason} at offset ${stop.offset}` };
    if (count !== footer.count) return { ok: false, reason: 'footer record count mismatch' };
    if (visit) {
      const again = scanFrames(fd, HEADER_BYTES, bodyEnd, recordBytesMax, visit);
      // Its frames were whole a moment ago: only a payload msgpack cannot decode (or a file changed meanwhile).
      if (again.reason) throw new Error(`recordLog: ${file}: ${again.reason} at offset ${again.offset} on decoding`);
    }
    return { ok: true, records, count, bytes: size };
  } finally {
    fs.closeSync(fd);
  }
}

function createFile(dir: string, name: string, header: Buffer): number {
  const fd = fs.openSync(path.join(dir, name), 'w+');
  try {
    writeAll(fd, header, 0);
    fs.fdatasyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  fsyncDir(dir);
  return fd;
}

function tryUnlink(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function validatePolicy(p: FsyncPolicy): void {
  if (p.mode === 'always') return;
  if (p.mode === 'interval' && Number.isFinite(p.intervalMs) && p.intervalMs > 0) return;
  throw new RangeError(`invalid fsync policy ${JSON.stringify(p)}`);
}

/** The generations found in the directory, after removing interrupted snapshots (recovery step 1). */
interface DirectoryScan {
  /** Newest first. */
  snapshotGens: number[];
  logGens: number[];
}

function scanDirectory(dir: string, logger: RecordLogLogger): DirectoryScan {
  const snapshotGens: number[] = [];
  const logGens: number[] = [];
  for (const name of fs.readdirSync(dir)) {
    if (SNAPSHOT_TMP_RE.test(name)) {
      logger.warn('recordLog: removing an interrupted snapshot', { file: name });
      tryUnlink(path.join(dir, name));
      continue;
    }
    const m = SNAPSHOT_RE.exec(name) ?? LOG_RE.exec(name);
    if (m) {
      // Only names this log writes: "snapshot-01" or "log-99999999999999999999" would be
      // read and renamed as "snapshot-1"/"log-1e+20" (files that do not exist): not ours.
      const g = Number(m[1]);
      if (!Number.isSafeInteger(g) || String(g) !== m[1]) {
        logger.warn('recordLog: ignoring a file that is not one of its generations', { file: name });
      } else (name.startsWith('snapshot-') ? snapshotGens : logGens).push(g);
    }
  }
  snapshotGens.sort((a, b) => b - a);
  return { snapshotGens, logGens };
}

interface LoadedSnapshot {
  gen: number;
  records: unknown[];
  count: number;
  bytesRead: number;
}

/** The newest valid snapshot, or generation 0's implicit empty one (recovery step 2). */
function loadNewestSnapshot(
  dir: string,
  snapshotGens: readonly number[],
  recordBytesMax: number,
  logger: RecordLogLogger,
  visit: ((record: unknown) => void) | undefined,
): LoadedSnapshot {
  for (const g of snapshotGens) {
    const read = readSnapshot(path.join(dir, snapshotFileName(g)), g, recordBytesMax, visit);
    if (read.ok) return { gen: g, records: read.records, count: read.count, bytesRead: read.bytes };
    logger.warn('recordLog: ignoring an invalid snapshot', { file: snapshotFileName(g), reason: read.reason });
  }
  return { gen: 0, records: [], count: 0, bytesRead: 0 };
}

/**
 * Moves the unusable files of newer generations aside and deletes the stale ones of older generations
 * (recovery step 4, done before the replay so that only generation `gen` is left).
 */
function retireOtherGenerations(dir: string, scan: DirectoryScan, gen: number, logger: RecordLogLogger): void {
  const stamp = Date.now();
  const setAside = (name: string): void => {
    const to = `${name}.corrupt-${stamp}`;
    logger.warn('recordLog: setting aside a file newer than the recovered snapshot', { file: name, renamedTo: to });
    fs.renameSync(path.join(dir, name), path.join(dir, to));
  };
  let removed = false;
  for (const g of scan.snapshotGens) {
    if (g > gen) setAside(snapshotFileName(g));
    else if (g < gen) {
      tryUnlink(path.join(dir, snapshotFileName(g)));
      removed = true;
    }
  }
  for (const g of scan.logGens) {
    if (g > gen) setAside(logFileName(g));
    else if (g < gen) {
      tryUnlink(path.join(dir, logFileName(g)));
      removed = true;
    }
  }
  if (removed) fsyncDir(dir);
}

interface ReplayedLog {
  /** Open for appends at `size`. */
  fd: number;
  size: number;
  tail: unknown[];
  count: number;
  bytesRead: number;
  truncatedBytes: number;
}

/** Replays log-<gen>, creating it when it is missing (recovery step 3). */
function replayLog(
  dir: string,
  gen: number,
  exists: boolean,
  recordBytesMax: number,
  logger: RecordLogLogger,
  visit: ((record: unknown) => void) | undefined,
): ReplayedLog {
  if (!exists) {
    const fd = createFile(dir, logFileName(gen), encodeHeader(KIND_LOG, gen));
    return { fd, size: HEADER_BYTES, tail: [], count: 0, bytesRead: 0, truncatedBytes: 0 };
  }
  const fd = fs.openSync(path.join(dir, logFileName(gen)), 'r+');
  try {
    return { fd, ...readAndRepairLog(fd, gen, recordBytesMax, logger, visit) };
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

/**
 * Reads the records of an open log file up to the first torn or corrupt one, and truncates the file there
 * (a log with a torn or foreign header becomes an empty log).
 */
function readAndRepairLog(
  fd: number,
  gen: number,
  recordBytesMax: number,
  logger: RecordLogLogger,
  visit: ((record: unknown) => void) | undefined,
): Omit<ReplayedLog, 'fd'> {
  const tail: unknown[] = [];
  let count = 0;
  // A log is read once: what it passes on is a prefix of it, the part kept.
  const onRecord = (r: unknown) => {
    count++;
    if (visit) visit(r);
    else tail.push(r);
  };
  const fileSize = fs.fstatSync(fd).size;
  let stop: ScanStop;
  if (fileSize < HEADER_BYTES || !headerValid(readExactly(fd, HEADER_BYTES, 0), KIND_LOG, gen)) {
    stop = { offset: 0, reason: fileSize < HEADER_BYTES ? 'torn file header' : 'bad file header' };
  } else {
    stop = scanFrames(fd, HEADER_BYTES, fileSize, recordBytesMax, onRecord);
  }
  let size = stop.offset;
  let truncatedBytes = 0;
  if (stop.reason) {
    truncatedBytes = fileSize - stop.offset;
    logger.warn('recordLog: truncating a torn or corrupt log tail', {
      file: logFileName(gen),
      offset: stop.offset,
      bytes: truncatedBytes,
      reason: stop.reason,
      recordsKept: count,
    });
    fs.ftruncateSync(fd, stop.offset);
    if (stop.offset === 0) {
      writeAll(fd, encodeHeader(KIND_LOG, gen), 0);
      size = HEADER_BYTES;
    }
    fs.fdatasyncSync(fd);
  }
  return { size, tail, count, bytesRead: fileSize, truncatedBytes };
}

/**
 * Writes a complete snapshot of `records` as generation `gen` to the open file `fd` (header, frames, footer)
 * and fdatasyncs it. Throws RangeError for a record larger than recordBytesMax.
 */
function writeSnapshotFile(fd: number, gen: number, records: Iterable<unknown>, recordBytesMax: number): void {
  const chunk = Buffer.allocUnsafe(WRITE_CHUNK);
  let used = 0;
  let pos = 0;
  let count = 0;
  const emit = (b: Uint8Array): void => {
    if (used + b.length > chunk.length) {
      writeAll(fd, chunk.subarray(0, used), pos);
      pos += used;
      used = 0;
    }
    if (b.length > chunk.length) {
      writeAll(fd, b, pos);
      pos += b.length;
    } else {
      chunk.set(b, used);
      used += b.length;
    }
  };
  emit(encodeHeader(KIND_SNAPSHOT, gen));
  const frame = Buffer.allocUnsafe(FRAME_BYTES);
  for (const record of records) {
    const payload = packr.pack(record);
    if (payload.length > recordBytesMax) {
      throw new RangeError(`record of ${payload.length} bytes exceeds recordBytesMax ${recordBytesMax}`);
    }
    frame.writeUInt32LE(payload.length, 0);
    frame.writeUInt32LE(crc32(payload), 4);
    emit(frame);
    emit(payload);
    count++;
  }
  const bodyBytes = pos + used - HEADER_BYTES;
  emit(encodeFooter(gen, count, bodyBytes));
  writeAll(fd, chunk.subarray(0, used), pos);
  fs.fdatasyncSync(fd);
}

export class RecordLog {
  private readonly dir: string;
  private readonly policy: FsyncPolicy;
  private readonly recordBytesMax: number;
  private readonly logger: RecordLogLogger;
  private gen: number;
  private fd: number;
  private size: number;
  private dirty = false;
  private closed = false;
  private failure: Error | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The timer's fdatasync is running in the thread pool (on `syncingFd`). */
  private syncing = false;
  private syncingFd = -1;
  /** Descriptors replaced (compact) or closed (close) while a sync ran on them: closed when it is done. */
  private readonly closeAfterSync: number[] = [];
  private readonly frame = Buffer.allocUnsafe(FRAME_BYTES);

  private constructor(dir: string, opts: RecordLogOptions, gen: number, fd: number, size: number) {
    this.dir = dir;
    this.policy = opts.fsync;
    this.recordBytesMax = opts.recordBytesMax ?? DEFAULT_RECORD_BYTES_MAX;
    this.logger = opts.logger ?? noopLogger;
    this.gen = gen;
    this.fd = fd;
    this.size = size;
    if (this.policy.mode === 'interval') {
      this.timer = setInterval(() => this.tick(), this.policy.intervalMs);
      this.timer.unref();
    }
  }

  static open(dir: string, opts: RecordLogOptions): OpenResult {
    const started = performance.now();
    validatePolicy(opts.fsync);
    const recordBytesMax = opts.recordBytesMax ?? DEFAULT_RECORD_BYTES_MAX;
    if (!Number.isInteger(recordBytesMax) || recordBytesMax < 1 || recordBytesMax > 0xffffffff) {
      throw new RangeError(`invalid recordBytesMax ${recordBytesMax}`);
    }
    const logger = opts.logger ?? noopLogger;
    fs.mkdirSync(dir, { recursive: true });

    const scan = scanDirectory(dir, logger);
    const snapshot = loadNewestSnapshot(dir, scan.snapshotGens, recordBytesMax, logger, opts.onRecord);
    const gen = snapshot.gen;
    retireOtherGenerations(dir, scan, gen, logger);
    const replayed = replayLog(dir, gen, scan.logGens.includes(gen), recordBytesMax, logger, opts.onRecord);

    const log = new RecordLog(dir, opts, gen, replayed.fd, replayed.size);
    const stats = {
      snapshotRecords: snapshot.count,
      tailRecords: replayed.count,
      bytesRead: snapshot.bytesRead + replayed.bytesRead,
      truncatedBytes: replayed.truncatedBytes,
      millis: performance.now() - started,
    };
    logger.info('recordLog: opened', { dir, generation: gen, ...stats });
    return { log, snapshot: snapshot.records, tail: replayed.tail, stats };
  }

  /** Encodes and writes one record; durable per the fsync policy (see the file header). */
  append(record: unknown): void {
    this.check();
    const payload = packr.pack(record); // a view of msgpackr's reused buffer: write it now
    if (payload.length > this.recordBytesMax) {
      throw new RangeError(`record of ${payload.length} bytes exceeds recordBytesMax ${this.recordBytesMax}`);
    }
    this.frame.writeUInt32LE(payload.length, 0);
    this.frame.writeUInt32LE(crc32(payload), 4);
    this.writeFrames([this.frame, payload], FRAME_BYTES + payload.length);
  }

  /**
   * Encodes and writes records in one write(2) (the same guarantees as an append of each, in
   * order, when it returns). A record over recordBytesMax throws before anything is written.
   */
  appendMany(records: readonly unknown[]): void {
    this.check();
    if (records.length === 0) return;
    const parts: Buffer[] = [];
    let total = 0;
    for (const record of records) {
      const payload = packr.pack(record);
      if (payload.length > this.recordBytesMax) {
        throw new RangeError(`record of ${payload.length} bytes exceeds recordBytesMax ${this.recordBytesMax}`);
      }
      // One buffer per record (frame + payload): pack() returns a view of a buffer it reuses.
      const framed = Buffer.allocUnsafe(FRAME_BYTES + payload.length);
      framed.writeUInt32LE(payload.length, 0);
      framed.writeUInt32LE(crc32(payload), 4);
      framed.set(payload, FRAME_BYTES);
      parts.push(framed);
      total += framed.length;
    }
    this.writeFrames([Buffer.concat(parts, total)], total);
  }

  private writeFrames(buffers: Buffer[], total: number): void {
    try {
      const n = fs.writevSync(this.fd, buffers, this.size);
      if (n < total) writeAll(this.fd, Buffer.concat(buffers).subarray(n), this.size + n);
    } catch (err) {
      // Do not leave a partial frame in front of later appends: cut back to the last record.
      try {
        fs.ftruncateSync(this.fd, this.size);
      } catch {
        this.failure = err as Error;
      }
      throw err;
    }
    this.size += total;
    this.dirty = true;
    if (this.policy.mode === 'always') this.sync();
  }

  /**
   * Atomically replaces the snapshot with `records` and starts an empty log. A crash at any
   * point leaves either the old snapshot + log or the new snapshot. If a record is too large
   * or the iterable throws, nothing changes and the error propagates.
   */
  compact(records: Iterable<unknown>): void {
    if (this.closed) throw new Error('RecordLog is closed');
    const next = this.gen + 1;
    const tmpName = `${snapshotFileName(next)}.tmp`;
    const tmpPath = path.join(this.dir, tmpName);
    const tmpFd = fs.openSync(tmpPath, 'w');
    let installed = false;
    try {
      writeSnapshotFile(tmpFd, next, records, this.recordBytesMax);
      fs.closeSync(tmpFd);
    } catch (err) {
      try {
        fs.closeSync(tmpFd);
      } catch {
        // already closed
      }
      tryUnlink(tmpPath);
      throw err;
    }
    try {
      // Install it: from here on generation `next` is the durable state.
      fs.renameSync(tmpPath, path.join(this.dir, snapshotFileName(next)));
      installed = true;
      fsyncDir(this.dir);
      const fd = createFile(this.dir, logFileName(next), encodeHeader(KIND_LOG, next));
      const oldFd = this.fd;
      this.fd = fd;
      this.gen = next;
      this.size = HEADER_BYTES;
      this.dirty = false;
      this.failure = undefined;
      this.closeWhenIdle(oldFd);
    } catch (err) {
      if (installed) {
        // The new snapshot may be what a reopen finds; appends to the old log would then be
        // ignored, so refuse them until a compaction succeeds.
        this.gen = next;
        this.failure = err as Error;
      } else tryUnlink(tmpPath);
      throw err;
    }
    // Remove the superseded generations (open() would do it after a crash here).
    for (const name of fs.readdirSync(this.dir)) {
      const m = SNAPSHOT_RE.exec(name) ?? LOG_RE.exec(name);
      if (m && Number(m[1]) < this.gen) tryUnlink(path.join(this.dir, name));
    }
  }

  /** fdatasync now (no-op when nothing was written since the last sync). */
  flush(): void {
    this.check();
    this.sync();
  }

  /** Flushes, stops the timer and closes the file. Idempotent. */
  close(): void {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    try {
      if (!this.failure) this.sync();
    } finally {
      this.closed = true;
      this.closeWhenIdle(this.fd);
    }
  }

  /** Current log file size in bytes (16 for an empty log); callers compact when it grows. */
  sizeBytes(): number {
    return this.size;
  }

  /** Current generation (0 before the first compaction). */
  generation(): number {
    return this.gen;
  }

  private check(): void {
    if (this.closed) throw new Error('RecordLog is closed');
    if (this.failure) throw this.failure;
  }

  private sync(): void {
    if (!this.dirty) return;
    try {
      fs.fdatasyncSync(this.fd);
    } catch (err) {
      this.failure = err as Error;
      throw err;
    }
    this.dirty = false;
  }

  /** Close `fd` now, or once the thread pool's sync running on it is done. */
  private closeWhenIdle(fd: number): void {
    if (this.syncing && this.syncingFd === fd) this.closeAfterSync.push(fd);
    else fs.closeSync(fd);
  }

  private tick(): void {
    if (this.closed || this.failure || this.syncing || !this.dirty) return;
    const fd = this.fd;
    // Records appended from here on wait for the next tick.
    this.dirty = false;
    this.syncing = true;
    this.syncingFd = fd;
    fs.fdatasync(fd, (err) => {
      this.syncing = false;
      for (const f of this.closeAfterSync.splice(0)) {
        try {
          fs.closeSync(f);
        } catch {
          // already closed
        }
      }
      // A compaction replaced that file by a snapshot it fsynced itself: its result no longer matters.
      if (!err || fd !== this.fd || this.closed) return;
      this.failure = err;
      this.logger.warn('recordLog: fsync failed; the log refuses appends until a compaction succeeds', {
        error: String(err),
      });
    });
  }
}
