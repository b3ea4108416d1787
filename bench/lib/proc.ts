// A benchmark's child process: spawned in its own process group (so a signal reaches
// everything it started, workers included), its output kept in memory up to a bound, its
// exit recorded. Used by bench:redirect, bench:live and the soak's LocalCluster.
import { spawn, type ChildProcess } from 'node:child_process';

export interface GroupProc {
  readonly name: string;
  readonly child: ChildProcess;
  alive: boolean;
  /** The exit code or signal, once it exited. */
  exit: string | undefined;
  readonly exited: Promise<void>;
  /** The last `keepBytes` the process wrote (stdout and stderr together). */
  output(): string;
}

export interface SpawnOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Output kept per process, bytes (older output is dropped). */
  keepBytes: number;
  /** Called once when it exits (or fails to spawn). */
  onExit?: (p: GroupProc) => void;
}

export function spawnGroup(name: string, cmd: string, args: string[], opts: SpawnOptions): GroupProc {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const chunks: string[] = [];
  let size = 0;
  const keep = (s: string) => {
    chunks.push(s);
    size += s.length;
    while (size > opts.keepBytes && chunks.length > 1) size -= chunks.shift()!.length;
  };
  child.stdout!.on('data', (b: Buffer) => keep(b.toString()));
  child.stderr!.on('data', (b: Buffer) => keep(b.toString()));
  let settle!: () => void;
  const p: GroupProc = { name, child, alive: true, exit: undefined, exited: new Promise<void>((resolve) => (settle = resolve)), output: () => chunks.join('') };
  const ended = (exit: string) => {
    if (!p.alive) return;
    p.alive = false;
    p.exit = exit;
    opts.onExit?.(p);
    settle();
  };
  child.once('exit', (code, signal) => ended(String(code ?? signal)));
  child.once('error', (err) => {
    keep(`spawn error: ${err.message}\n`);
    ended(`spawn error: ${err.message}`);
  });
  return p;
}

/** Send `signal` to the process group led by `pid` (to the process alone if that fails); a group already gone is ignored. */
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

/** The tail of a process's output under a header naming it, for error messages. */
export function outputTail(p: GroupProc, chars = 4000): string {
  const text = p.output().trimEnd();
  const exit = p.exit === undefined ? '' : `, exited: ${p.exit}`;
  return text ? `----- ${p.name} (pid ${p.child.pid}${exit}) -----\n${text.slice(-chars)}` : `----- ${p.name}: no output${exit} -----`;
}
