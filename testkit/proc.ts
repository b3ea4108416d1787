// Child processes for tests, benchmarks and chaos runs: their output kept in memory up to a
// bound, their exit recorded, optionally in a process group of their own (a signal then reaches
// everything they started, workers included), and SIGKILLed if this process exits first.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { BoundedLog } from './log';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be spawned at all. */
  error?: string;
}

export interface ProcOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Its own process group (detached): signal() then reaches the whole group. Default false. */
  group?: boolean;
  /** Output kept (stdout and stderr together), in characters; default 64 KiB. */
  logBytes?: number;
  /** Called once when it exits (or fails to spawn). */
  onExit?: (p: Proc) => void;
}

/** Every process started here and not known to be gone (group leaders stay: their group may outlive them). */
const started = new Set<Proc>();
process.once('exit', () => {
  for (const p of started) p.signal('SIGKILL', { evenIfExited: p.group });
});

/** Send `signal` to the process group led by `pid` (to the process alone if that fails); gone is ignored. */
export function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** One spawned process (one life: a restart is a new Proc). */
export class Proc {
  readonly log: BoundedLog;
  /** Its stderr alone (the last 16 KiB). */
  readonly stderr = new BoundedLog(16 * 1024);
  readonly exited: Promise<ExitInfo>;
  exit: ExitInfo | null = null;
  /** performance.now() when spawned. */
  readonly startedAt = performance.now();

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly group: boolean,
    opts: Pick<ProcOptions, 'logBytes' | 'onExit'> = {},
  ) {
    this.log = new BoundedLog(opts.logBytes ?? 64 * 1024);
    started.add(this);
    child.stdout?.setEncoding('utf8').on('data', (s: string) => this.log.append(s));
    child.stderr?.setEncoding('utf8').on('data', (s: string) => {
      this.log.append(s);
      this.stderr.append(s);
    });
    this.exited = new Promise((resolve) => {
      const ended = (exit: ExitInfo) => {
        if (this.exit) return;
        this.exit = exit;
        if (!group) started.delete(this);
        opts.onExit?.(this);
        resolve(exit);
      };
      child.once('exit', (code, signal) => ended({ code, signal }));
      child.once('error', (err) => {
        this.log.append(`spawn error: ${err.message}\n`);
        ended({ code: null, signal: null, error: err.message });
      });
    });
  }

  get alive(): boolean {
    return this.exit === null;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Signal it (its whole group when it has one) while it runs; `evenIfExited` reaches a group whose leader is gone. */
  signal(signal: NodeJS.Signals, opts: { evenIfExited?: boolean } = {}): void {
    if (!this.alive && !opts.evenIfExited) return;
    if (this.group) signalGroup(this.pid, signal);
    else if (this.alive) this.child.kill(signal);
  }

  /** The output it wrote (the last logBytes of it). */
  output(): string {
    return this.log.text();
  }

  /** How it ended, e.g. "code 1", "signal SIGKILL", or "running". */
  describeExit(): string {
    const e = this.exit;
    if (!e) return 'running';
    if (e.error) return `spawn error: ${e.error}`;
    return e.signal ? `signal ${e.signal}` : `code ${e.code}`;
  }
}

/** Spawn `cmd args` with its output kept (see Proc). */
export function spawnProc(name: string, cmd: string, args: readonly string[], opts: ProcOptions = {}): Proc {
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.group ?? false,
  });
  return new Proc(name, child, opts.group ?? false, opts);
}

/** The tail of a process's output under a header naming it, for error messages. */
export function outputTail(p: Proc, chars = 4000): string {
  const text = p.output().trimEnd();
  const exit = p.exit === null ? '' : `, exited: ${p.describeExit()}`;
  if (!text) return `----- ${p.name}: no output${exit} -----`;
  return `----- ${p.name} (pid ${p.pid}${exit}) -----\n${text.slice(-chars)}`;
}

/** Whether `taskset` (util-linux) can pin processes here: installed, and at least two CPUs. */
export function canPin(cpuCount: number): boolean {
  return cpuCount >= 2 && spawnSync('sh', ['-c', 'command -v taskset'], { stdio: 'ignore' }).status === 0;
}

/** Pin every thread of process `pid` to CPU `cpu` (taskset -a -pc); false when taskset failed. */
export function pinToCpu(pid: number, cpu: number): boolean {
  return spawnSync('taskset', ['-a', '-pc', String(cpu), String(pid)], { stdio: 'ignore' }).status === 0;
}
