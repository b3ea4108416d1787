// Wall-clock jumps for node processes through libfaketime: a node started with faketimeEnv(file)
// reads its clock offset from that file on every clock read (FAKETIME_NO_CACHE); monotonic time
// stays real (DONT_FAKE_MONOTONIC), so timers, heartbeats and caches are unaffected.
import { existsSync, renameSync, writeFileSync } from 'node:fs';

/** Debian's libfaketime (apt-get install faketime), wherever this architecture keeps it. */
export const FAKETIME_LIB =
  [
    `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu/faketime/libfaketime.so.1`,
    '/usr/lib/faketime/libfaketime.so.1',
    '/usr/local/lib/faketime/libfaketime.so.1',
  ].find((p) => existsSync(p)) ?? '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

export function faketimeAvailable(): boolean {
  return existsSync(FAKETIME_LIB);
}

/** The environment that puts a node's wall clock under `clockFile`. */
export function faketimeEnv(clockFile: string): Record<string, string> {
  return {
    LD_PRELOAD: FAKETIME_LIB,
    FAKETIME_TIMESTAMP_FILE: clockFile,
    FAKETIME_NO_CACHE: '1',
    DONT_FAKE_MONOTONIC: '1',
  };
}

/**
 * Set the offset a clock file holds, as libfaketime reads it: "+3600" (seconds ahead) or "+0".
 * Written atomically (rename), so that a clock read never sees a half-written offset.
 */
export function writeClock(clockFile: string, offset: string): void {
  writeFileSync(`${clockFile}.tmp`, `${offset}\n`);
  renameSync(`${clockFile}.tmp`, clockFile);
}
