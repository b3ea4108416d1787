// BENCHMARKS.md and its chart (bench/results/bench-latest.svg), generated from one
// bench/results/bench-<timestamp>.json written by `npm run bench` (bench/all.ts). Also links
// the soak benchmark (bench/results/soak-latest.svg, the newest soak-*.json) and CHAOS.md
// when they exist.
import { existsSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  type BenchDoc,
  type BenchEntry,
  type BenchName,
  type LiveFigures,
  type RedirectFigures,
  type RingScaleFigures,
  benchTitles,
  extractFigures,
  extractRingScale,
  fmtInt,
  fmtNum,
  fmtPct,
  fmtRatio,
  redirectLabels,
  redirectRoles,
  rows,
  warnings,
} from './benchdoc';
import { type SvgChart, type SvgPanel, renderChart } from './svg';

export const chartFile = 'bench/results/bench-latest.svg';
export const reportFile = 'BENCHMARKS.md';

// ---------------------------------------------------------------------------------------
// What each benchmark does (the report's setup section)

const descriptions: Record<BenchName, string> = {
  redirect: [
    'GET /:slug answered with a 302, with the same settings for every server (64 connections, the load generator on the same',
    'machine). The servers: **bare** node:http with the links in a Map (the ceiling of a Node redirect on this machine);',
    '**Next.js route + Redis**, an App Router route handler reading the target from Redis (ioredis GET) and INCR-ing a counter',
    '(`next start`, redis-server without persistence); **ringlink** as a 4-node cluster (N=3), loaded on a node that is a replica',
    'of the slug (**local**: it answers from its own copy) and on a node that is not (**forwarded**: it answers from its cache and',
    "ships the count to the replicas). This VM's speed drifts by 20-40% over seconds, so bare and ringlink are measured in",
    '**paired rounds**: each round gives every one of them one full-load run (wrk when installed, else autocannon), in an order',
    'that rotates per round, while the processes of the others are paused with SIGSTOP (so idle ring nodes take no CPU from the',
    "bare server, nor it from them). A server's req/s is the median of its rounds, and its ratio to bare is the median of the",
    'per-round ratios. Next.js + Redis, 20x slower, gets one warm-up and one full-load run on its own. Then each server gets a run',
    "at half its rate with autocannon (latency below saturation: p50/p99 of every response's own time). Afterwards every",
    "server's counter must equal the redirects served.",
  ].join('\n'),
  creates: [
    'POST /api/links against what a user would otherwise run: a node:http server with ioredis against a real redis-server',
    "(`SET link:<slug> NX` of the link document, then `SADD` to the owner's set; bench/baselines/redisCreateServer.ts). ringlink:",
    "a 3-node cluster (N=3, W=2), one account's API key, random slugs (a compare-and-set claim, then the link's quorum write).",
    'Both persist (ringlink: DATA_DIR, FSYNC=interval; redis: AOF everysec). Full load: wrk, 64 connections split over three wrk',
    'processes (ringlink: one per node). The rounds alternate between the two; the ratio is the median of the per-round ratios.',
    "Then a paced run (each request sent at its own time, latency from that time) at half the goal's load, 0.25 x redis / 2.",
  ].join('\n'),
  links: [
    "A 3-node cluster (N=3, R=2, W=2). **Creates**: POST /api/links with one account's API key, 64 requests in flight spread over the",
    'three nodes; each create claims a random slug (compare-and-set) and writes the link with a quorum write (the ring indexes',
    'it under its owner). **Memory per stored copy**: every node forced through a full GC, then RSS and V8 heap (used + external +',
    'array buffers) growth summed over the nodes, divided by the stored copies (links x N; per link = per copy x 3): once after',
    'A links created by POST /api/links, once after L links created by a test hook that runs the same create path in process',
    '(tests/cluster/syntheticLinks.test.ts checks that it leaves the same keys and CAS states on every node). Where the bytes of',
    'a stored copy go: [docs/storage.md](docs/storage.md).',
  ].join('\n'),
  live: [
    'A 3-node cluster with socket.io; clients are socket.io-client in the benchmark process. **Click to browser**: one socket per',
    'node subscribed to 10 links, 1,000 clicks/s (GET /<slug>) round-robin over nodes and links; the latency of a click is when a',
    'socket receives a total that includes it, over every (click, socket) pair. **Partition**: {n1} | {n2, n3} while clicks go on',
    "on both sides, then heal; the time until every node's API reports the exact totals, and until every socket has them.",
    '**Fan-out**: thousands of sockets on one link, one click: the time until the last socket has the new total.',
  ].join('\n'),
  cluster: [
    'Real processes with a DATA_DIR each. Load K keys into one node (R=W=1), start a second node and time join-to-ready and the',
    'handoff until it holds every key (with 2 nodes and N=3 every key moves); SIGKILL it and time failure detection; restart the',
    'first node and time log replay and restart-to-ready.',
  ].join('\n'),
  sim: [
    'The deterministic simulator (ring/sim): per seed, a simulated 5-node ring runs clients for 10 virtual seconds while a',
    'randomized fault schedule plays (message loss, duplication and reordering, partitions, crashes with and without disk, clock',
    'skew, a join and a graceful leave), then heals, quiesces and is checked against the invariants. Each seed also runs it with',
    'ZONE set over 3 zones (preference lists on 3 distinct zones, balance within each zone), and the',
    "shortener's scenario (server/sim): the real link service, click budgets, view counters and sessions over a simulated ring",
    'under the same faults, checked for slugs granted once, exact max-clicks, exact views and kept sessions. Seeds run on one',
    'worker thread per core; the figure is seeds per second of wall time (fixed seeds: the same schedules every run).',
  ].join('\n'),
  quorum: [
    'In process: a 5-node ring on the simulated network (1 ms links, no faults), 64 clients looping put-then-get through random',
    "nodes. Measures the CPU cost of the ring's code paths per operation (coordination, versioning, replication, read merge), not a network.",
  ].join('\n'),
  placement: [
    'The partition claim (ring/placement/claim.ts) for Q=64 and Q=256, nVal=3: partitions moved by each join against the ideal',
    'Q/n, and the balance (most and fewest partitions per node) for 3 to 8 nodes. With zones (ZONE, ring/placement/zones.ts), 3',
    'and 4 zones and 3 to 12 nodes dealt round-robin: preference lists not on 3 distinct zones, the balance within each zone, and',
    "each join's moves against the joiner's fair share of its zone. Pure computation.",
  ].join('\n'),
  'ring-scale': [
    'The real ring code in the deterministic simulator (ring/sim/scale.ts) at n = 5, 10, 25, 50 and 100 nodes with',
    'Q = 1024, and 256 nodes with Q = 4096, N=3, with the production timings (gossip every 200 ms to 2 peers, a',
    'SWIM probe every 200 ms, suspicion timeout 1 s) and 1-5 ms links. The cluster starts settled (as after a',
    'restart from disk) and goes through 3 joins, a graceful leave, a crash (and restart), a partition of 30% of',
    'the nodes for 5 s, and 120 virtual seconds at 1% message loss. **Bytes**: the JSON length of every message',
    'sent over 10 virtual seconds of steady state, per node per second (ring gossip: digests, and whole rings when',
    'digests differ; SWIM: ping, ack, ping-req). **Ring change**: a change (the joiner known, the joiner valid with',
    "its claims, the leaver leaving, the leave's plan) reaching every node, over nodes and changes. **Moves**:",
    "partitions whose owner changed per join against Q/(n+1); **transfers**: the ownership transfers the claimant's",
    "plan schedules. **Claim CPU**: wall time of the claimant's computation (planRing) for each change, measured",
    "in-process. **Dead**: per observer, from the crash to its detector's 'dead'. **False suspicions**: suspect and",
    'dead marks of nodes that were up, under 1% loss, scaled to an hour, counted per observer (one suspicion that',
    'spreads to every node counts n-1 times). Every figure but the claim CPU is a function of the seed (virtual',
    'time).',
    '',
    'Goals at 100 nodes: membership traffic at most 2 KB/s per node, a ring change everywhere within 2 s at p99,',
    'moves within 1.1x the ideal, no false dead under 1% loss. What it took: a gossip digest used to carry the ring',
    'fingerprint itself (a string of every member and every claim), now a 64-bit hash of it; every SWIM message and',
    'digest used to carry the whole liveness table (O(n) bytes per message), now only recent changes, each on about',
    '4 log10(n+1) messages, with a whole-table push-pull every 10 s; and every node recomputed its preference lists',
    'in O(Q^2 n) on every ring change (seconds at Q=4096), now O(Q n), shared between nodes holding the same ring.',
    'Measured before those changes (same harness, Q=1024): ring gossip 63, 65, 74, 84 and 99 KB/s per node at n =',
    '5, 10, 25, 50 and 100, SWIM 0.8, 1.4, 3.2, 6.1 and 12.2 KB/s; 256 nodes at Q=4096 did not run in useful time',
    '(the preference lists). SWIM bytes still grow with n through the whole-table push-pull (about 14 bytes per',
    'member, twice every 10 s): memberlist stretches that interval with log n, which would keep it flat. Limits',
    "that remain: the claimant's CPU per change grows with Q and n (the claim is one process's computation: at",
    'Q=4096 and 256 nodes it took 0.3-0.6 s per change here, up to 1.9 s on a busier run); every ring change',
    'is gossiped as the whole ring',
    '(O(Q + n) bytes) to every node, so a change costs O(n (Q + n)) bytes cluster-wide and an ownership handoff of',
    'many partitions is many such changes; batching the transfers a plan completes into one ring change, or',
    'gossiping ring deltas by epoch, would be the next step.',
  ].join('\n'),
};

// ---------------------------------------------------------------------------------------
// The chart

const colors = { bare: '#4b5563', next: '#9ca3af', local: '#1d4ed8', forwarded: '#60a5fa' } as const;
const light = { bare: '#9ca3af', next: '#d1d5db', local: '#93c5fd', forwarded: '#bfdbfe' } as const;

function redirectPanels(f: RedirectFigures): SvgPanel[] {
  const roles = redirectRoles.filter((r) => f.servers[r]);
  if (roles.length === 0) return [];
  const throughput: SvgPanel = {
    title: 'Redirects per second at full load (higher is better)',
    note: `${f.generator}, ${f.connections ?? '?'} connections, ${f.durationSeconds ?? '?'} s, load on one node; ratios against the baselines of the same run`,
    scale: 'linear',
    unit: 'req/s',
    groups: roles.map((role) => {
      const s = f.servers[role]!;
      const ratios = [
        role !== 'bare' && f.ratios[`${role}.reqPerSec/bare`] !== undefined
          ? `${fmtRatio(f.ratios[`${role}.reqPerSec/bare`])} bare`
          : '',
        role !== 'next' && role !== 'bare' && f.ratios[`${role}.reqPerSec/next`] !== undefined
          ? `${fmtRatio(f.ratios[`${role}.reqPerSec/next`])} Next+Redis`
          : '',
        role === 'forwarded' && f.ratios['forwarded.reqPerSec/local'] !== undefined
          ? `${fmtRatio(f.ratios['forwarded.reqPerSec/local'])} local`
          : '',
      ].filter(Boolean);
      const [label, sub] = splitLabel(role);
      return {
        label,
        sublabel: sub,
        bars: [
          {
            value: s.reqPerSec,
            text: `${fmtInt(s.reqPerSec)}${ratios.length ? `  (${ratios.join(', ')})` : ''}`,
            color: colors[role],
          },
        ],
      };
    }),
  };
  const latency: SvgPanel = {
    title: 'Redirect latency at half load (lower is better)',
    note: "autocannon at half of each server's own full-load rate; p50 and p99 of the responses' own times",
    scale: 'log',
    unit: 'ms',
    groups: roles.map((role) => {
      const s = f.servers[role]!;
      const [label, sub] = splitLabel(role);
      return {
        label,
        sublabel: sub,
        bars: [
          { tag: 'p50', value: s.halfP50Ms, text: `${fmtNum(s.halfP50Ms)} ms`, color: light[role] },
          { tag: 'p99', value: s.halfP99Ms, text: `${fmtNum(s.halfP99Ms)} ms`, color: colors[role] },
        ],
      };
    }),
  };
  return [throughput, latency];
}

function splitLabel(role: keyof typeof colors): [string, string | undefined] {
  const l = redirectLabels[role];
  const m = /^(ringlink), (.*)$/.exec(l);
  return m ? [`${m[1]}`, m[2]] : [l, role === 'bare' ? 'baseline: the ceiling' : 'baseline: the default stack'];
}

function livePanel(f: LiveFigures): SvgPanel | null {
  const groups: SvgPanel['groups'] = [];
  if (f.clickP50Ms !== null && f.clickP99Ms !== null)
    groups.push({
      label: 'click to browser',
      sublabel: `${f.clicksPerSecond === null ? '?' : fmtInt(f.clicksPerSecond)} clicks/s, 3 sockets`,
      bars: [
        { tag: 'p50', value: f.clickP50Ms, text: `${fmtNum(f.clickP50Ms)} ms`, color: '#6ee7b7' },
        { tag: 'p99', value: f.clickP99Ms, text: `${fmtNum(f.clickP99Ms)} ms`, color: '#059669' },
      ],
    });
  const conv = f.convergedMs.filter((x): x is number => x !== null);
  if (conv.length && conv.length === f.convergedMs.length)
    groups.push({
      label: 'exact after partition heals',
      sublabel: `worst of ${conv.length} run(s), every node's API`,
      bars: [{ tag: 'max', value: Math.max(...conv), text: `${fmtInt(Math.max(...conv))} ms`, color: '#059669' }],
    });
  if (f.fanoutUntilLastMs.length) {
    const sorted = [...f.fanoutUntilLastMs].sort((a, b) => a - b);
    const med = sorted[Math.floor((sorted.length - 1) / 2)]!;
    groups.push({
      label: `fan-out to ${fmtInt(f.fanoutSocketsOpen ?? 0)} sockets`,
      sublabel: `last socket updated, median of ${sorted.length}`,
      bars: [{ tag: 'last', value: med, text: `${fmtInt(med)} ms`, color: '#059669' }],
    });
  }
  if (groups.length === 0) return null;
  return {
    title: 'Live updates (lower is better)',
    note: 'socket.io clients in the benchmark process, 3-node cluster',
    scale: 'linear',
    unit: 'ms',
    groups,
  };
}

/** The chart bench/ringScale.ts writes (bench/results/ring-scale-latest.svg). */
export const ringScaleChartFile = 'bench/results/ring-scale-latest.svg';

export function ringScaleChart(f: RingScaleFigures, subtitle: string[], footer: string[]): string {
  return renderChart({ title: 'The ring simulated at 5 to 256 nodes', subtitle, panels: ringScalePanels(f), footer });
}

function ringScalePanels(f: RingScaleFigures): SvgPanel[] {
  if (f.points.length === 0) return [];
  const label = (p: RingScaleFigures['points'][number]) => `${p.nodes} nodes`;
  const sub = (p: RingScaleFigures['points'][number]) => `Q=${p.ringSize}`;
  return [
    {
      title: 'The ring simulated at scale: membership bytes per node per second (lower is better; goal at 100: 2 KB/s)',
      note: 'steady state, JSON length of every message; ring gossip digests and SWIM ping/ack/ping-req',
      scale: 'linear',
      unit: 'B/s',
      groups: f.points.map((p) => ({
        label: label(p),
        sublabel: sub(p),
        bars: [
          { tag: 'ring', value: p.gossipBytes, text: `${fmtInt(p.gossipBytes)} B/s`, color: '#fbbf24' },
          { tag: 'SWIM', value: p.livenessBytes, text: `${fmtInt(p.livenessBytes)} B/s`, color: '#d97706' },
        ],
      })),
    },
    {
      title: 'A ring change reaching every node (lower is better; goal at 100: 2 s at p99)',
      note: 'joins and a leave, over nodes and changes; virtual time',
      scale: 'linear',
      unit: 'ms',
      groups: f.points.map((p) => ({
        label: label(p),
        sublabel: sub(p),
        bars: [
          { tag: 'p50', value: p.changeP50Ms, text: `${fmtInt(p.changeP50Ms)} ms`, color: '#c4b5fd' },
          { tag: 'p99', value: p.changeP99Ms, text: `${fmtInt(p.changeP99Ms)} ms`, color: '#7c3aed' },
        ],
      })),
    },
  ];
}

export function benchChart(doc: BenchDoc, docFile: string): string | null {
  const panels: SvgPanel[] = [];
  const redirect = doc.benchmarks.find((b) => b.figures?.kind === 'redirect')?.figures as RedirectFigures | undefined;
  if (redirect) panels.push(...redirectPanels(redirect));
  const live = doc.benchmarks.find((b) => b.figures?.kind === 'live')?.figures as LiveFigures | undefined;
  const lp = live ? livePanel(live) : null;
  if (lp) panels.push(lp);
  if (panels.length === 0) return null;
  const m = doc.machine;
  const chart: SvgChart = {
    title: 'ringlink benchmarks',
    subtitle: [
      `${doc.startedAt.slice(0, 16).replace('T', ' ')} UTC, commit ${m.gitCommit?.slice(0, 10) ?? '?'}${m.gitDirtyFiles ? ` (+${m.gitDirtyFiles} changed files)` : ''}; Node ${m.node}; ${m.cpus} x ${m.cpuModel}, ${m.memoryGiB} GiB`,
      `One ${m.cpus}-core machine: the load generator, the baselines and every ringlink node share the same ${m.cpus} cores (loopback).`,
    ],
    panels,
    footer: [`Generated by bench/report.ts from ${docFile}.`],
  };
  if (doc.quick)
    chart.warning = '--quick run: short runs and small sizes to check the pipeline, not representative figures';
  return renderChart(chart);
}

// ---------------------------------------------------------------------------------------
// Markdown

const mdEscape = (s: string) => s.replace(/\|/g, '\\|');

function resultsTable(doc: BenchDoc): string {
  const head =
    '| benchmark | figure | value | unit | vs bare | vs Next+Redis | vs local |\n|---|---|--:|---|--:|--:|--:|';
  let last: BenchName | null = null;
  const body = rows(doc).map((r) => {
    const first = r.bench !== last;
    last = r.bench;
    const figure = r.figure.startsWith('  ') ? `&nbsp;&nbsp;${r.figure.trim()}` : r.figure;
    return `| ${first ? `[${r.bench}](#${r.bench})` : ''} | ${mdEscape(figure)} | ${mdEscape(r.value)} | ${mdEscape(r.unit)} | ${r.vsBare} | ${r.vsNext} | ${r.vsLocal} |`;
  });
  return [head, ...body].join('\n');
}

function fmtSeconds(s: number): string {
  if (s < 90) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

function paramsText(p: Record<string, unknown>): string {
  const parts = Object.entries(p)
    .filter(([, v]) => v !== null && v !== undefined && typeof v !== 'object')
    .map(([k, v]) => `${k}=${typeof v === 'string' && v.length > 60 ? `${v.slice(0, 57)}...` : String(v)}`);
  return parts.length ? parts.join(', ') : '(defaults)';
}

function benchSection(b: BenchEntry): string {
  const lines = [
    `### ${b.name}`,
    '',
    `**${benchTitles[b.name]}.** Reproduce: \`${b.command}\``,
    '',
    descriptions[b.name],
    '',
  ];
  lines.push(`- parameters: ${mdEscape(paramsText(b.parameters))}`);
  lines.push(
    `- ran ${fmtSeconds(b.wallSeconds)} (exit ${b.exitCode ?? b.signal ?? '?'}${b.timedOut ? ', timed out' : ''}); CPU busy the second before: ${fmtPct(b.cpuBusyBefore)}; other processes' CPU while it ran: ${fmtPct(b.othersCpu)}`,
  );
  if (b.resultFile) lines.push(`- its own results file: [${b.resultFile}](${b.resultFile})`);
  if (b.error) lines.push(`- **error:** ${mdEscape(b.error.split('\n')[0]!)}`);
  lines.push('');
  return lines.join('\n');
}

function newest(dir: string, re: RegExp): string | null {
  if (!existsSync(dir)) return null;
  const files = readdirSync(dir)
    .filter((f) => re.test(f))
    .sort();
  return files.length ? files[files.length - 1]! : null;
}

/** The soak benchmark's newest results, if bench/soak.ts has written any. */
function soakSection(root: string): string | null {
  const dir = join(root, 'bench', 'results');
  const svg = existsSync(join(dir, 'soak-latest.svg'));
  const file = newest(dir, /^soak-.*\.json$/);
  if (!svg && !file) return null;
  const lines = ['## Soak', ''];
  if (file) {
    let doc: Record<string, unknown> = {};
    try {
      doc = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
    } catch {
      // unreadable: link it anyway
    }
    const when = typeof doc.startedAt === 'string' ? ` (started ${doc.startedAt})` : '';
    lines.push(
      `Newest results: [bench/results/${file}](bench/results/${file})${when}.${typeof doc.command === 'string' ? ` Reproduce: \`${doc.command}\`.` : ' Reproduce: `npm run soak`.'}`,
      '',
    );
    const summary = doc.summary;
    if (summary && typeof summary === 'object' && !Array.isArray(summary)) {
      const flat = Object.entries(summary as Record<string, unknown>).filter(
        ([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v),
      );
      if (flat.length) {
        lines.push('| figure | value |', '|---|--:|');
        for (const [k, v] of flat) lines.push(`| ${mdEscape(k)} | ${mdEscape(String(v))} |`);
        lines.push('');
      }
    }
  } else lines.push('Reproduce: `npm run soak`.', '');
  if (svg) lines.push('![Soak](bench/results/soak-latest.svg)', '');
  return lines.join('\n');
}

function chaosSection(root: string): string | null {
  const file = join(root, 'CHAOS.md');
  const results = newest(join(root, 'bench', 'results'), /^chaos-.*\.json$/);
  if (!existsSync(file) && !results) return null;
  const lines = ['## Chaos', ''];
  if (existsSync(file)) {
    const para = readFileSync(file, 'utf8')
      .split(/\n\s*\n/)
      .map((p) => p.trim())
      .find((p) => p && !p.startsWith('#') && !p.startsWith('<!--') && !p.startsWith('!['));
    lines.push('Chaos testing (`npm run chaos`): see [CHAOS.md](CHAOS.md).', '');
    if (para) lines.push(`> ${para.split('\n').join('\n> ')}`, '');
  } else lines.push('Chaos testing: `npm run chaos`.', '');
  if (results) {
    let doc: Record<string, unknown> = {};
    try {
      doc = JSON.parse(readFileSync(join(root, 'bench', 'results', results), 'utf8')) as Record<string, unknown>;
    } catch {
      // unreadable: link it anyway
    }
    const scenarios = Array.isArray(doc.scenarios)
      ? doc.scenarios.map((x) =>
          x && typeof x === 'object' ? String((x as Record<string, unknown>).name ?? '?') : '?',
        )
      : [];
    const facts = [
      typeof doc.command === 'string' ? `\`${doc.command}\`` : '',
      typeof doc.startedAt === 'string' ? `started ${doc.startedAt}` : '',
      typeof doc.valid === 'boolean' ? `valid: ${doc.valid ? 'yes' : '**no**'}` : '',
      scenarios.length ? `scenarios: ${scenarios.join(', ')}` : '',
    ].filter(Boolean);
    lines.push(
      `Newest results: [bench/results/${results}](bench/results/${results})${facts.length ? ` (${facts.join('; ')})` : ''}.`,
      '',
    );
  }
  return lines.join('\n');
}

/**
 * The ring at scale: from this run's ring-scale benchmark, else from the newest full
 * bench/results/ring-scale-*.json that `npm run bench:ring-scale` wrote.
 */
function ringScaleSection(root: string, doc: BenchDoc): string | null {
  const dir = join(root, 'bench', 'results');
  let result: unknown = doc.benchmarks.find((b) => b.name === 'ring-scale' && b.result)?.result;
  let source = 'this run';
  if (!result) {
    const files = existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => /^ring-scale-.*\.json$/.test(f))
          .sort()
          .reverse()
      : [];
    for (const f of files) {
      try {
        const r = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { quick?: boolean };
        if (r.quick) continue;
        result = r;
        source = `[bench/results/${f}](bench/results/${f})`;
        break;
      } catch {
        // skip unreadable files
      }
    }
  }
  if (!result) return null;
  let f: RingScaleFigures;
  try {
    f = extractRingScale(result);
  } catch {
    return null;
  }
  const r = result as { startedAt?: string; command?: string; goalChecks?: Record<string, boolean> | null };
  const lines = ['## The ring at scale', ''];
  lines.push(
    `From ${source}${r.startedAt ? ` (started ${r.startedAt})` : ''}. ` +
      `Reproduce: \`${r.command ?? 'npm run bench:ring-scale'}\`.`,
    '',
  );
  lines.push(
    '| n | Q | ring gossip B/s | SWIM B/s | change p50 / p99 ms | moves / ideal (worst join) | transfers per join |' +
      ' claim ms (worst) | dead p50 / p99 ms | false suspect / dead per hour |',
    '|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  );
  const missed = (k: number) => (k ? ` (${k} missed)` : '');
  for (const p of f.points)
    lines.push(
      `| ${p.nodes} | ${p.ringSize} | ${fmtInt(p.gossipBytes)} | ${fmtInt(p.livenessBytes)} | ` +
        `${fmtInt(p.changeP50Ms)} / ${fmtInt(p.changeP99Ms)}${missed(p.changeMissing)} | ` +
        `${p.joinRatio.toFixed(2)} | ${fmtInt(p.planTransfers)} | ${fmtNum(p.claimMs)} | ` +
        `${fmtInt(p.deadP50Ms)} / ${fmtInt(p.deadP99Ms)} | ` +
        `${fmtNum(p.falseSuspectPerHour)} / ${fmtNum(p.falseDeadPerHour)} |`,
    );
  lines.push('');
  if (r.goalChecks) {
    const verdict = (ok: boolean | undefined) => (ok ? 'met' : '**missed**');
    const g = r.goalChecks;
    lines.push(
      `Goals at 100 nodes: membership traffic <= 2 KB/s per node ${verdict(g.membershipBytes)}; ` +
        `a ring change everywhere within 2 s at p99 ${verdict(g.propagationP99)}; ` +
        `moves within 1.1x the ideal ${verdict(g.moves)}; no false dead ` +
        `under 1% loss ${verdict(g.noFalseDead)}.`,
      '',
    );
  }
  lines.push(descriptions['ring-scale'], '');
  if (existsSync(join(root, ringScaleChartFile))) lines.push(`![The ring at scale](${ringScaleChartFile})`, '');
  return lines.join('\n');
}

export function reportMarkdown(doc: BenchDoc, docFile: string, root: string, chart: string | null): string {
  const m = doc.machine;
  const warn = warnings(doc);
  const out: string[] = [];
  out.push('# Benchmarks', '');
  out.push(
    `<!-- Generated by \`npm run bench\` / \`npm run bench:report\` (bench/report.ts) from ${docFile}. Do not edit by hand. -->`,
    '',
  );
  out.push(
    `Run of ${doc.startedAt.slice(0, 19).replace('T', ' ')} UTC${doc.quick ? ' (**--quick**)' : ''} on commit \`${m.gitCommit?.slice(0, 12) ?? '?'}\`${m.gitDirtyFiles ? ` with ${m.gitDirtyFiles} uncommitted changed file(s)` : ''}: \`${doc.command}\`, ${fmtSeconds(doc.wallSeconds)} in all. Data: [${docFile}](${docFile}).`,
    '',
  );
  out.push(
    `> **One ${m.cpus}-core machine.** Every benchmark runs its load generator (wrk or autocannon, or its own HTTP and socket.io clients), its baselines and every ringlink node (4 for redirects, 3 for creates and live updates) on the same ${m.cpus} cores, over loopback. The load generator takes CPU from the servers it measures, and a ringlink node shares the cores with its peers, so absolute figures are lower than each server would reach on a machine of its own, and they move by 10-30% between runs. Compare ratios within one run (each run measures its own baselines), not across runs or machines. The benchmarks run one at a time.`,
    '',
  );
  if (warn.length) out.push('**Warnings for this run:**', '', ...warn.map((w) => `- ${mdEscape(w)}`), '');
  if (chart) out.push(`![Redirect throughput and latency, live update latency](${chartFile})`, '');
  out.push('## Results', '', resultsTable(doc), '');
  out.push(
    'Ratios are the figure divided by the same figure of the baseline in the same run: above 1 means more requests per second, or a longer latency. Latency pairs are p50 / p99. "vs local": a ringlink node that is not a replica of the slug (it forwards the count) against a node that is.',
    '',
  );
  out.push('## Machine', '');
  out.push(
    `- ${m.cpus} x ${m.cpuModel} (${m.availableParallelism} available to Node), ${m.memoryGiB} GiB RAM, ${m.platform}`,
  );
  out.push(
    `- Node ${m.node}; ${Object.entries(m.versions)
      .filter(([, v]) => v)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  out.push(`- before the run: load average ${m.loadAverageBefore.join(' / ')}, CPU ${fmtPct(m.cpuBusyBefore)} busy`);
  out.push(`- commit ${m.gitCommit ?? 'unknown'}${m.gitDirtyFiles ? ` (+${m.gitDirtyFiles} changed files)` : ''}`, '');
  out.push('## What each benchmark measures, and how to reproduce it', '');
  out.push(
    'Every figure above comes from one of these commands (run from the repository root; the `bench:*` scripts build `dist/` first). `npm run bench` runs them all in this order, one at a time, and writes `bench/results/bench-<timestamp>.json`, this file and the chart.',
    '',
  );
  for (const b of doc.benchmarks) out.push(benchSection(b));
  if (doc.skipped.length) out.push(`Not run this time (--only/--skip): ${doc.skipped.join(', ')}.`, '');
  out.push('## Running them all', '');
  out.push(
    '```sh',
    'npm run bench                       # every benchmark, full sizes (about 11 minutes on the 2-core machine)',
    'npm run bench -- --quick            # small sizes: checks the pipeline end to end in a few minutes',
    'npm run bench -- --only redirect,live',
    'npm run bench -- --skip links       # e.g. without the 1M-link memory run (it needs ~6 GB of RAM)',
    'npm run bench:report                # rewrite BENCHMARKS.md from the newest full run (or: -- bench/results/bench-<ts>.json)',
    '```',
    '',
  );
  out.push('| benchmark | wall time | command |', '|---|--:|---|');
  for (const b of doc.benchmarks) out.push(`| ${b.name} | ${fmtSeconds(b.wallSeconds)} | \`${b.command}\` |`);
  out.push('');
  const scale = ringScaleSection(root, doc);
  if (scale) out.push(scale);
  const soak = soakSection(root);
  if (soak) out.push(soak);
  const chaos = chaosSection(root);
  if (chaos) out.push(chaos);
  return `${out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}

/** Write BENCHMARKS.md and bench/results/bench-latest.svg from one bench-*.json; returns the files written. */
export function writeReport(root: string, docPath: string): string[] {
  const doc = JSON.parse(readFileSync(docPath, 'utf8')) as BenchDoc;
  if (doc.benchmark !== 'all')
    throw new Error(`${docPath} is not a bench/all.ts result (benchmark: ${String(doc.benchmark)})`);
  // The figures again from each benchmark's own JSON (kept whole in the document), so that an
  // older result reads with this generator; the stored figures when that fails.
  for (const b of doc.benchmarks) {
    if (b.result === null || b.result === undefined) continue;
    try {
      b.figures = extractFigures(b.name, b.result);
    } catch {
      // keep the stored figures
    }
  }
  const rel = relative(root, docPath);
  const chart = benchChart(doc, rel);
  const written: string[] = [];
  const put = (path: string, text: string) => {
    const abs = join(root, path);
    writeFileSync(`${abs}.tmp`, text);
    renameSync(`${abs}.tmp`, abs);
    written.push(path);
  };
  if (chart) put(chartFile, chart);
  put(reportFile, reportMarkdown(doc, rel, root, chart));
  return written;
}

/** The newest bench-*.json in bench/results: a full run if there is one, else the newest --quick run. */
export function newestBenchDoc(root: string): string | null {
  const dir = join(root, 'bench', 'results');
  if (!existsSync(dir)) return null;
  const files = readdirSync(dir)
    .filter((f) => /^bench-.*\.json$/.test(f))
    .sort()
    .reverse();
  for (const f of files) {
    try {
      if (!(JSON.parse(readFileSync(join(dir, f), 'utf8')) as BenchDoc).quick) return join(dir, f);
    } catch {
      // skip unreadable files
    }
  }
  return files.length ? join(dir, files[0]!) : null;
}
