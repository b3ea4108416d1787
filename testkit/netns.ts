// Network namespaces for real partitions (root only): one namespace per node on a bridge. A
// caller picks a name prefix and a /24 of its own so that concurrent users never collide:
// namespaces <prefix><tag>-<i>, bridge <prefix>b<tag>, veths <prefix>v<tag>x<i> (interface
// names stay under 16 characters for a prefix of 3 and a tag of 4). This process, in the root
// namespace, reaches every node through the bridge address .254, which no rule ever drops.
//
// Rules are iptables DROPs by peer address inside a node's namespace (addresses, not ports:
// ephemeral source ports cannot slip through). heal() flushes them all.
import { execFileSync, spawnSync } from 'node:child_process';

export function netnsAvailable(): { ok: boolean; why?: string } {
  if (process.getuid?.() !== 0) return { ok: false, why: 'not root' };
  for (const cmd of ['ip', 'iptables']) {
    const found = spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
    if (!found) return { ok: false, why: `${cmd} not installed` };
  }
  return { ok: true };
}

function sh(args: string[]): void {
  execFileSync(args[0]!, args.slice(1), { stdio: 'pipe', timeout: 10_000 });
}

function shQuiet(args: string[]): void {
  spawnSync(args[0]!, args.slice(1), { stdio: 'ignore', timeout: 10_000 });
}

/** Every NetNs set up by this process, torn down on exit whatever happens. */
const live = new Set<NetNs>();
process.once('exit', () => {
  for (const n of live) n.teardown();
});

export interface NetNsSpec {
  /** Three lower-case letters naming the user (chaos, a test). */
  prefix: string;
  /** Unique per run, at most 4 characters. */
  tag: string;
  size: number;
  /** The first three octets of the /24, e.g. "10.201.3". */
  subnet: string;
}

export class NetNs {
  readonly bridge: string;
  readonly subnet: string;
  readonly size: number;
  private up = false;

  constructor(private readonly spec: NetNsSpec) {
    this.bridge = `${spec.prefix}b${spec.tag}`;
    this.subnet = spec.subnet;
    this.size = spec.size;
  }

  ns(i: number): string {
    return `${this.spec.prefix}${this.spec.tag}-${i}`;
  }
  ip(i: number): string {
    return `${this.subnet}.${i + 1}`;
  }
  private veth(i: number): string {
    return `${this.spec.prefix}v${this.spec.tag}x${i}`;
  }

  /** The command prefix that runs a program inside node i's namespace. */
  exec(i: number): string[] {
    return ['ip', 'netns', 'exec', this.ns(i)];
  }

  setup(): void {
    this.teardown(); // leftovers of an earlier run with the same tag
    live.add(this);
    this.up = true;
    sh(['ip', 'link', 'add', this.bridge, 'type', 'bridge']);
    sh(['ip', 'addr', 'add', `${this.subnet}.254/24`, 'dev', this.bridge]);
    sh(['ip', 'link', 'set', this.bridge, 'up']);
    for (let i = 0; i < this.size; i++) {
      sh(['ip', 'netns', 'add', this.ns(i)]);
      sh(['ip', 'link', 'add', this.veth(i), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.ns(i)]);
      sh(['ip', 'link', 'set', this.veth(i), 'master', this.bridge]);
      sh(['ip', 'link', 'set', this.veth(i), 'up']);
      sh([...this.exec(i), 'ip', 'addr', 'add', `${this.ip(i)}/24`, 'dev', 'eth0']);
      sh([...this.exec(i), 'ip', 'link', 'set', 'eth0', 'up']);
      sh([...this.exec(i), 'ip', 'link', 'set', 'lo', 'up']);
    }
  }

  /** Node i drops every packet from `from` (INPUT -s). */
  dropFrom(i: number, from: number): void {
    sh([...this.exec(i), 'iptables', '-A', 'INPUT', '-s', this.ip(from), '-j', 'DROP']);
  }

  /** Node i drops every packet it would send to `to` (OUTPUT -d). */
  dropTo(i: number, to: number): void {
    sh([...this.exec(i), 'iptables', '-A', 'OUTPUT', '-d', this.ip(to), '-j', 'DROP']);
  }

  heal(): void {
    for (let i = 0; i < this.size; i++) sh([...this.exec(i), 'iptables', '-F']);
  }

  /** Idempotent; quiet about what is already gone. Processes must be killed first (a namespace lingers while one runs in it). */
  teardown(): void {
    for (let i = 0; i < this.size; i++) shQuiet(['ip', 'netns', 'del', this.ns(i)]);
    shQuiet(['ip', 'link', 'del', this.bridge]);
    for (let i = 0; i < this.size; i++) shQuiet(['ip', 'link', 'del', this.veth(i)]);
    this.up = false;
    live.delete(this);
  }

  get active(): boolean {
    return this.up;
  }
}
