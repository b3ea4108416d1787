// The machine's CPU time, all cores summed (ms since boot): busy (user, nice, sys, irq) and in
// all. Benchmarks take two readings to tell how busy the machine was in between.
import os from 'node:os';

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
