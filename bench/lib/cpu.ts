// The machine's CPU time, all cores summed (ms since boot): busy (user, nice, sys, irq) and in
// all. Benchmarks take two readings to tell how busy the machine was in between.
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

const clockTicksPerSecond = 100; // USER_HZ on Linux

export function machineCpuTimes(): { busyMs: number; totalMs: number } {
  let busyMs = 0;
  let totalMs = 0;
  for (const c of os.cpus()) {
    const busy = c.times.user + c.times.nice + c.times.sys + c.times.irq;
    busyMs += busy;
    totalMs += busy + c.times.idle;
  }
  return { busyMs, totalMs };
}

/** CPU time (user + system, ms) of every process now in one of the process groups `pgids` (Linux; 0 elsewhere). */
export function processGroupsCpuMs(pgids: ReadonlySet<number | undefined>): number {
  if (process.platform !== 'linux' || pgids.size === 0) return 0;
  let ms = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (pgids.has(Number(f[2]))) ms += ((Number(f[11]) + Number(f[12])) * 1000) / clockTicksPerSecond;
    } catch {
      // exited meanwhile
    }
  }
  return ms;
}
