'use client';

import 'uplot/dist/uPlot.min.css';
import { useEffect, useMemo, useRef } from 'react';
import type uPlot from 'uplot';
import type { LinkStats } from '../lib/api';
import styles from './ViewsChart.module.css';

const chartHeightPx = 220;
const accent = '#4338ca';

type Series = LinkStats['series'];

function toData(series: Series): uPlot.AlignedData {
  return [series.map((p) => Date.parse(p.t) / 1000), series.map((p) => p.n)];
}

function options(uPlotClass: typeof uPlot, width: number): uPlot.Options {
  return {
    width,
    height: chartHeightPx,
    legend: { show: false },
    cursor: { drag: { x: false, y: false }, points: { show: false } },
    scales: {
      x: { time: true },
      // Never a flat line at 0..0: at least 0..4 so an idle link still shows an axis.
      y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.1))] },
    },
    axes: [
      { stroke: '#4b5563', grid: { show: false }, ticks: { stroke: '#e3e6ea' } },
      {
        stroke: '#4b5563',
        grid: { stroke: '#eef0f3' },
        ticks: { show: false },
        incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 100000, 1000000],
        size: 44,
      },
    ],
    series: [
      {},
      {
        label: 'Views',
        stroke: accent,
        fill: 'rgba(67, 56, 202, 0.75)',
        width: 0,
        paths: uPlotClass.paths.bars?.({ size: [0.7, 14], gap: 1 }),
        points: { show: false },
      },
    ],
  };
}

/** Views per minute over the last hour, as bars (uPlot on a canvas). */
export function ViewsChart({ series }: { series: Series | null }) {
  const containerRef = useRef<HTMLDivElement>(null);
  const chartRef = useRef<uPlot | null>(null);
  const latest = useRef<Series | null>(series);
  latest.current = series;
  const ready = series !== null;

  // Create once the data is there; destroy on unmount; follow the container's width.
  useEffect(() => {
    const container = containerRef.current;
    if (!ready || container === null) return;
    let disposed = false;
    let observer: ResizeObserver | undefined;
    void import('uplot').then(({ default: uPlotClass }) => {
      if (disposed) return;
      const chart = new uPlotClass(options(uPlotClass, container.clientWidth), toData(latest.current ?? []), container);
      chartRef.current = chart;
      observer = new ResizeObserver(() => {
        const width = container.clientWidth;
        if (width > 0 && width !== chart.width) chart.setSize({ width, height: chartHeightPx });
      });
      observer.observe(container);
    });
    return () => {
      disposed = true;
      observer?.disconnect();
      chartRef.current?.destroy();
      chartRef.current = null;
    };
  }, [ready]);

  useEffect(() => {
    if (series !== null) chartRef.current?.setData(toData(series));
  }, [series]);

  const summary = useMemo(() => describe(series), [series]);

  return (
    <figure className={styles.figure}>
      <div ref={containerRef} className={styles.chart} data-testid="series-chart" role="img" aria-label={summary}>
        {!ready && <span className={`skeleton ${styles.placeholder}`} />}
      </div>
      <figcaption className={styles.caption}>{ready ? summary : '\u00a0'}</figcaption>
    </figure>
  );
}

function describe(series: Series | null): string {
  if (series === null) return 'Views per minute, loading';
  const total = series.reduce((sum, p) => sum + p.n, 0);
  if (total === 0) return `No views in the last ${series.length} minutes.`;
  const peak = series.reduce((best, p) => (p.n > best.n ? p : best));
  const at = new Date(peak.t).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  return `${total} view${total === 1 ? '' : 's'} in the last ${series.length} minutes; busiest minute ${at} with ${peak.n}.`;
}
