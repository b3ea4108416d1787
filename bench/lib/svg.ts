// A small SVG generator for the benchmark report: panels of horizontal bars (one or more
// bars per group), linear or log scale, with the value written at the end of every bar.
// Plain SVG 1.1, no scripts, no external fonts or images (GitHub renders it through <img>),
// on a white background so it reads in dark mode too.

export interface SvgBar {
  value: number;
  /** Written after the bar. */
  text: string;
  color: string;
  /** Small label before the bar inside the group (e.g. "p50"). */
  tag?: string;
}
export interface SvgGroup {
  label: string;
  sublabel?: string;
  bars: SvgBar[];
}
export interface SvgPanel {
  title: string;
  note?: string;
  scale: 'linear' | 'log';
  unit: string;
  groups: SvgGroup[];
}
export interface SvgChart {
  title: string;
  subtitle: string[];
  panels: SvgPanel[];
  footer: string[];
  /** A banner line in red (e.g. "--quick run"). */
  warning?: string;
}

const WIDTH = 960;
const MARGIN = 20;
const LABEL_W = 260;
const TAG_W = 34;
const BAR_X = MARGIN + LABEL_W + TAG_W;
const BAR_W = 380;
const BAR_H = 18;
const BAR_GAP = 3;
const GROUP_GAP = 12;
const FONT = 'font-family="-apple-system, \'Segoe UI\', Helvetica, Arial, sans-serif"';

export const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const f1 = (x: number) => Math.round(x * 10) / 10;

function text(
  x: number,
  y: number,
  s: string,
  opts: { size?: number; weight?: string; fill?: string; anchor?: 'start' | 'middle' | 'end' } = {},
): string {
  return `<text x="${f1(x)}" y="${f1(y)}" font-size="${opts.size ?? 12}"${opts.weight ? ` font-weight="${opts.weight}"` : ''} fill="${opts.fill ?? '#111827'}"${opts.anchor && opts.anchor !== 'start' ? ` text-anchor="${opts.anchor}"` : ''}>${esc(s)}</text>`;
}

/** 1, 2, 5 x 10^k steps giving about `target` ticks over [0, max]. */
function niceStep(max: number, target = 5): number {
  const raw = max / target;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function fmtTick(x: number): string {
  if (x >= 1000) return `${x / 1000}k`;
  if (x >= 1) return String(x);
  return String(Number(x.toPrecision(2)));
}

interface Scale {
  x: (v: number) => number;
  ticks: number[];
}

function scaleFor(panel: SvgPanel): Scale {
  const values = panel.groups.flatMap((g) => g.bars.map((b) => b.value)).filter((v) => Number.isFinite(v) && v > 0);
  const max = Math.max(1e-9, ...values);
  if (panel.scale === 'log') {
    // At least a factor 2 below the smallest value, so that no bar is a sliver.
    const lo = 10 ** Math.floor(Math.log10(Math.min(...values, max) / 2));
    const hi = 10 ** Math.ceil(Math.log10(max * 1.0001));
    const span = Math.log10(hi) - Math.log10(lo) || 1;
    const ticks: number[] = [];
    for (let t = lo; t <= hi * 1.0001; t *= 10) ticks.push(Number(t.toPrecision(1)));
    return { x: (v) => (v <= lo ? 0 : (Math.log10(v / lo) / span) * BAR_W), ticks };
  }
  const step = niceStep(max);
  const hi = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  for (let t = 0; t <= hi + step / 2; t += step) ticks.push(t);
  return { x: (v) => (Math.max(0, v) / hi) * BAR_W, ticks };
}

function panelSvg(panel: SvgPanel, top: number): { svg: string[]; height: number } {
  const out: string[] = [];
  let y = top;
  out.push(text(MARGIN, y + 14, panel.title, { size: 15, weight: '600' }));
  y += 22;
  if (panel.note) {
    out.push(text(MARGIN, y + 12, panel.note, { size: 12, fill: '#4b5563' }));
    y += 18;
  }
  y += 6;
  const scale = scaleFor(panel);
  const gridTop = y;
  const rows: string[] = [];
  for (const g of panel.groups) {
    const barsH = g.bars.length * BAR_H + (g.bars.length - 1) * BAR_GAP;
    // Room for the two label lines when there is a sublabel.
    const groupH = Math.max(barsH, g.sublabel ? 34 : 0);
    const mid = y + groupH / 2;
    rows.push(text(MARGIN, mid + (g.sublabel ? -2 : 4), g.label, { size: 13, weight: '500' }));
    if (g.sublabel) rows.push(text(MARGIN, mid + 13, g.sublabel, { size: 11, fill: '#6b7280' }));
    let by = y + (groupH - barsH) / 2;
    for (const b of g.bars) {
      const w = Math.max(1, scale.x(b.value));
      if (b.tag) rows.push(text(BAR_X - 6, by + BAR_H - 5, b.tag, { size: 11, fill: '#6b7280', anchor: 'end' }));
      rows.push(`<rect x="${BAR_X}" y="${f1(by)}" width="${f1(w)}" height="${BAR_H}" rx="2" fill="${b.color}"/>`);
      rows.push(text(BAR_X + w + 6, by + BAR_H - 5, b.text, { size: 12 }));
      by += BAR_H + BAR_GAP;
    }
    y += groupH + GROUP_GAP;
  }
  const gridBottom = y - GROUP_GAP + 6;
  // Grid first (under the bars), then the bars and labels, then the axis labels.
  for (const t of scale.ticks) {
    const x = BAR_X + scale.x(t);
    out.push(
      `<line x1="${f1(x)}" y1="${f1(gridTop - 4)}" x2="${f1(x)}" y2="${f1(gridBottom)}" stroke="${t === scale.ticks[0] ? '#9ca3af' : '#e5e7eb'}" stroke-width="1"/>`,
    );
    out.push(text(x, gridBottom + 14, fmtTick(t), { size: 11, fill: '#6b7280', anchor: 'middle' }));
  }
  out.push(
    text(BAR_X + BAR_W, gridBottom + 28, `${panel.unit}${panel.scale === 'log' ? ' (log scale)' : ''}`, {
      size: 11,
      fill: '#6b7280',
      anchor: 'end',
    }),
  );
  out.push(...rows);
  return { svg: out, height: gridBottom + 34 - top };
}

export function renderChart(chart: SvgChart): string {
  const body: string[] = [];
  let y = MARGIN;
  body.push(text(MARGIN, y + 18, chart.title, { size: 18, weight: '700' }));
  y += 26;
  for (const s of chart.subtitle) {
    body.push(text(MARGIN, y + 13, s, { size: 12, fill: '#374151' }));
    y += 17;
  }
  if (chart.warning) {
    body.push(text(MARGIN, y + 14, chart.warning, { size: 13, weight: '600', fill: '#b91c1c' }));
    y += 20;
  }
  y += 10;
  for (const p of chart.panels) {
    const { svg, height } = panelSvg(p, y);
    body.push(...svg);
    y += height + 14;
  }
  for (const s of chart.footer) {
    body.push(text(MARGIN, y + 12, s, { size: 11, fill: '#6b7280' }));
    y += 16;
  }
  const height = Math.ceil(y + MARGIN / 2);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ${FONT} role="img" aria-label="${esc(chart.title)}">`,
    `<title>${esc(chart.title)}</title>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
