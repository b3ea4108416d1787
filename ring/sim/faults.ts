// The randomized fault schedule a seed plays while its clients run: message loss,
// duplication and reordering, partitions symmetric and one-way, crashes with and without
// disk (now and then an operator removes the dead node), clock skew, a join and a graceful
// leave; then everything heals. Shared by the ring's scenario (scenario.ts) and the
// shortener's (server/sim/), so both face the same faults; every choice is drawn from the
// seed's `rnd`, in the same order, whichever workload runs.
import type { SimRandom } from './prng';
import type { SimWorld } from './world';

export class FaultSchedule {
  /** What happened, "<virtual ms>ms <fault>", for the replay output. */
  readonly faults: string[] = [];
  /** Nodes that left or were removed: never restarted, never picked for a fault. */
  readonly retired = new Set<string>();
  /** Bumped on every fault and heal: a checker can tell whether the network changed during an operation. */
  epoch = 0;
  private nextFault = 0;
  private amnesiaUsed = false;
  private joined = false;
  private left = false;
  private removed = false;
  private readonly pendingRemovals: (() => void)[] = [];
  private crashed: string | undefined;

  constructor(
    private readonly world: SimWorld,
    private readonly rnd: SimRandom,
  ) {
    // A node that left or was removed exits, as its process would.
    world.onNodeExit = (name, why) => {
      this.retired.add(name);
      if (!world.nodes.get(name)?.up) return;
      world.scheduler.after(1, () => {
        world.crash(name, true);
        this.note(`${name} ${why} and exited`);
      });
    };
  }

  note(s: string): void {
    this.epoch++;
    this.faults.push(`${this.world.now()}ms ${s}`);
    this.world.trace?.push(`${this.world.now()} FAULT ${s}`);
  }

  /** The active phase's lossy network, and the time of the first fault. */
  start(): void {
    const { rnd } = this;
    this.world.net.setFaults({
      dropRate: rnd.chance(0.7) ? rnd.int(6) / 100 : 0,
      duplicateRate: rnd.chance(0.5) ? rnd.int(4) / 100 : 0,
      minDelayMs: 1,
      maxDelayMs: 2 + rnd.int(25),
      reorder: rnd.chance(0.5),
    });
    this.nextFault = this.world.now() + 500 + rnd.int(1500);
  }

  /** Called at each sample during the active phase: injects the next fault when it is due. */
  tick(): void {
    const { world, rnd } = this;
    if (world.now() < this.nextFault) return;
    this.nextFault = world.now() + 800 + rnd.int(2000);
    const live = world
      .upNodes()
      .map((n) => n.name)
      .filter((n) => !this.retired.has(n));
    const roll = rnd.next();
    if (roll < 0.25) {
      const shuffled = rnd.shuffle([...live]);
      const cut = 1 + rnd.int(Math.max(1, Math.floor(shuffled.length / 2)));
      world.net.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
      this.note(`partition [${shuffled.slice(0, cut)}] | [${shuffled.slice(cut)}]`);
      world.scheduler.after(1_000 + rnd.int(3_000), () => {
        world.net.heal();
        this.note('heal');
      });
    } else if (roll < 0.5 && !this.crashed) {
      const victim = rnd.pick(live);
      const keepDisk = this.amnesiaUsed || rnd.chance(0.6);
      if (!keepDisk) this.amnesiaUsed = true;
      world.crash(victim, keepDisk);
      this.crashed = victim;
      this.note(`crash ${victim} ${keepDisk ? 'with disk' : 'without disk'}`);
      // Now and then an operator gives up on the dead node and removes it for good.
      // Removal loses the node's data for good, like a crash without disk: the fault model
      // (W = 2 copies of every acknowledged write) survives one such loss at a time.
      const removeIt =
        keepDisk && !this.amnesiaUsed && !this.removed && live.length > world.config.nVal + 1 && rnd.chance(0.15);
      if (removeIt) this.amnesiaUsed = true;
      const removal = () => {
        this.removed = true;
        this.retired.add(victim);
        const by = world.upNodes().find((n) => n.name !== victim && !this.retired.has(n.name));
        by?.node.remove(victim);
        this.note(`remove ${victim} (by ${by?.name})`);
      };
      if (removeIt) this.pendingRemovals.push(removal);
      world.scheduler.after(1_000 + rnd.int(3_000), () => {
        this.crashed = undefined;
        if (removeIt) {
          if (this.pendingRemovals.includes(removal)) {
            this.pendingRemovals.splice(this.pendingRemovals.indexOf(removal), 1);
            removal();
          }
          return;
        }
        world.restart(victim);
        this.note(`restart ${victim}`);
      });
    } else if (roll < 0.6) {
      const a = rnd.pick(live);
      const b = rnd.pick(live.filter((n) => n !== a));
      world.net.blockOneWay(a, b);
      this.note(`block ${a} -> ${b}`);
      world.scheduler.after(1_000 + rnd.int(2_000), () => {
        world.net.unblockOneWay(a, b);
        this.note(`unblock ${a} -> ${b}`);
      });
    } else if (roll < 0.75) {
      const victim = rnd.pick(live);
      const jump = rnd.range(-1_000, 1_000);
      world.nodes.get(victim)!.clock.jump(jump);
      this.note(`clock ${victim} ${jump > 0 ? '+' : ''}${jump}ms`);
    } else if (roll < 0.87 && !this.joined) {
      this.joined = true;
      const name = `n${world.nodes.size}`;
      world.addNode(name, live);
      this.note(`join ${name}`);
    } else if (!this.left && live.length > world.config.nVal + 1) {
      this.left = true;
      const leaver = rnd.pick(live);
      world.nodes.get(leaver)!.node.leave();
      this.note(`leave ${leaver}`);
    }
  }

  /**
   * After the active phase (and the few seconds that let scheduled heals and restarts
   * fire): an operator's removal still pending happens now, then the network heals, loses
   * nothing any more, and every node that is down and not retired restarts.
   */
  healAll(): void {
    const { world } = this;
    for (const removal of this.pendingRemovals.splice(0)) removal();
    world.net.heal();
    world.net.setFaults({ dropRate: 0, duplicateRate: 0, reorder: false, minDelayMs: 1, maxDelayMs: 5 });
    for (const sim of world.nodes.values()) if (!sim.up && !this.retired.has(sim.name)) world.restart(sim.name);
    this.note('heal all');
  }
}
