'use client';

import { memo, useCallback, useId, useMemo, useRef, useState, type KeyboardEvent, type RefObject } from 'react';
import type { ClusterView, RingPartition } from '../lib/api';
import { ownership, preferenceList } from '../lib/cluster';
import styles from './RingDiagram.module.css';

type Ring = ClusterView['ring'];
type NodeColors = ReadonlyMap<string, string>;
type Ownership = ReturnType<typeof ownership>;

const outerRadius = 188;
const innerRadius = 128;

function point(radius: number, angle: number): string {
  return `${(radius * Math.cos(angle)).toFixed(2)} ${(radius * Math.sin(angle)).toFixed(2)}`;
}

/** The annular sector of partition `index` of `size`, clockwise from 12 o'clock. */
function sectorPath(index: number, size: number): string {
  const step = (2 * Math.PI) / size;
  const pad = size <= 256 ? Math.min(step * 0.18, 0.012) : 0;
  const a0 = index * step - Math.PI / 2 + pad;
  const a1 = (index + 1) * step - Math.PI / 2 - pad;
  const large = a1 - a0 > Math.PI ? 1 : 0;
  return (
    `M ${point(outerRadius, a0)} A ${outerRadius} ${outerRadius} 0 ${large} 1 ${point(outerRadius, a1)} ` +
    `L ${point(innerRadius, a1)} A ${innerRadius} ${innerRadius} 0 ${large} 0 ${point(innerRadius, a0)} Z`
  );
}

function describe(p: RingPartition, prefs: readonly string[]): string {
  return (
    `Partition ${p.index}, owned by ${p.owner || 'nobody'}` +
    (p.next ? `, moving to ${p.next}` : '') +
    (prefs.length > 0 ? `. Preference list: ${prefs.join(', ')}` : '')
  );
}

/**
 * The ring: one arc per partition, colored by owner, striped while it moves to another
 * node. Hover, focus or click a partition for its owner and preference list; arrow keys
 * walk the ring (one tab stop for the whole ring).
 */
export function RingDiagram({ ring, colors, node }: { ring: Ring; colors: NodeColors; node: string }) {
  const id = useId();
  const titleId = `${id}-title`;
  const descId = `${id}-desc`;
  const stripesId = `${id}-stripes`;
  const svgRef = useRef<SVGSVGElement>(null);
  const [hovered, setHovered] = useState<number | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const size = ring.partitions.length;
  const active = hovered ?? selected;
  const activePartition = active !== null && active < size ? ring.partitions[active] : undefined;

  const counts = useMemo(() => ownership(ring), [ring]);
  const moving = useMemo(() => ring.partitions.filter((p) => p.next).length, [ring]);
  const onKeyDown = useRingKeyboard(svgRef, size, selected, setSelected, setHovered);
  const movingNote = moving > 0 ? `; ${moving} striped arcs are moving to another node` : '';

  return (
    <div className={styles.layout}>
      <div className={styles.figure}>
        <svg
          ref={svgRef}
          className={styles.svg}
          viewBox="-200 -200 400 400"
          role="group"
          aria-labelledby={titleId}
          aria-describedby={descId}
          data-testid="ring-svg"
        >
          <title id={titleId}>Consistent-hash ring of {size} partitions</title>
          <desc id={descId}>
            {`Each arc is a partition, colored by the node that owns it${movingNote}. ` +
              'Use the arrow keys to move between partitions; the panel next to the ring shows the selected one.'}
          </desc>
          <defs>
            <pattern id={stripesId} patternUnits="userSpaceOnUse" width="7" height="7" patternTransform="rotate(45)">
              <rect width="3" height="7" fill="rgb(255 255 255 / 0.6)" />
            </pattern>
          </defs>
          <Segments
            ring={ring}
            colors={colors}
            tabStop={selected ?? 0}
            onHover={setHovered}
            onSelect={setSelected}
            onKeyDown={onKeyDown}
          />
          {moving > 0 && <MovingOverlay ring={ring} colors={colors} stripesId={stripesId} />}
          {activePartition !== undefined && active !== null && (
            <path className={styles.highlight} d={sectorPath(active, size)} aria-hidden="true" />
          )}
          <RingCenter size={size} nVal={ring.nVal} nodes={counts.size} />
        </svg>
      </div>

      <div className={styles.side}>
        <PartitionDetail ring={ring} colors={colors} index={active} node={node} />
        <OwnersLegend colors={colors} counts={counts} moving={moving} />
      </div>
    </div>
  );
}

/** Where a key moves the selection from `current` on a ring of `size` (not yet wrapped), if it moves it. */
function keyTarget(key: string, current: number, size: number): number | undefined {
  const jump = Math.max(1, Math.round(size / 8));
  const next: Record<string, number> = {
    ArrowRight: current + 1,
    ArrowDown: current + 1,
    ArrowLeft: current - 1,
    ArrowUp: current - 1,
    PageDown: current + jump,
    PageUp: current - jump,
    Home: 0,
    End: size - 1,
  };
  return next[key];
}

/**
 * The ring's keyboard: arrow keys, Page Up/Down, Home and End select and focus another arc, Escape clears the
 * selection. Returns one stable handler for the memoized arcs; it reads the latest state through a ref.
 */
function useRingKeyboard(
  svgRef: RefObject<SVGSVGElement | null>,
  size: number,
  selected: number | null,
  setSelected: (index: number | null) => void,
  setHovered: (index: number | null) => void,
): (event: KeyboardEvent<SVGGElement>) => void {
  const focusPartition = useCallback(
    (index: number) => {
      setSelected(index);
      svgRef.current?.querySelector<SVGPathElement>(`[data-testid="ring-partition"][data-index="${index}"]`)?.focus();
    },
    [svgRef, setSelected],
  );

  function onKeyDown(event: KeyboardEvent<SVGGElement>) {
    if (size === 0) return;
    const target = keyTarget(event.key, selected ?? 0, size);
    if (target === undefined) {
      if (event.key === 'Escape') setSelected(null);
      return;
    }
    event.preventDefault();
    setHovered(null);
    focusPartition(((target % size) + size) % size);
  }

  const keyDownRef = useRef(onKeyDown);
  keyDownRef.current = onKeyDown;
  return useCallback((event: KeyboardEvent<SVGGElement>) => keyDownRef.current(event), []);
}

/** Stripes over the arcs that are moving, outlined in the color of the node they move to. */
function MovingOverlay({ ring, colors, stripesId }: { ring: Ring; colors: NodeColors; stripesId: string }) {
  const size = ring.partitions.length;
  return (
    <g className={styles.overlay} aria-hidden="true">
      {ring.partitions.map((p, i) =>
        p.next ? (
          <path
            key={i}
            d={sectorPath(i, size)}
            fill={`url(#${stripesId})`}
            stroke={colors.get(p.next) ?? '#111827'}
            strokeWidth={1.5}
            strokeDasharray="3 2"
          />
        ) : null,
      )}
    </g>
  );
}

function RingCenter({ size, nVal, nodes }: { size: number; nVal: number; nodes: number }) {
  return (
    <g className={styles.center} aria-hidden="true">
      <text y={-22} className={styles.centerBig}>
        {size}
      </text>
      <text y={2} className={styles.centerLabel}>
        partitions
      </text>
      <text y={26} className={styles.centerLabel}>
        N = {nVal} · {nodes} node{nodes === 1 ? '' : 's'}
      </text>
    </g>
  );
}

/** Each owner with its color and partition count (in the order of `colors`), and the stripes if any arc moves. */
function OwnersLegend({ colors, counts, moving }: { colors: NodeColors; counts: Ownership; moving: number }) {
  const legend = useMemo(() => [...colors.keys()].filter((n) => counts.has(n)), [colors, counts]);
  return (
    <div>
      <h3 className={styles.sideTitle}>Owners</h3>
      <ul className={styles.legend} data-testid="ring-legend">
        {legend.map((name) => {
          const c = counts.get(name)!;
          return (
            <li key={name} data-node={name}>
              <span className={styles.swatch} style={{ background: colors.get(name) }} aria-hidden="true" />
              <span className={styles.legendName}>{name}</span>
              <span className={styles.legendCount}>
                {c.owned} partition{c.owned === 1 ? '' : 's'}
                {c.incoming > 0 && ` · +${c.incoming} incoming`}
              </span>
            </li>
          );
        })}
        {moving > 0 && (
          <li>
            <span className={`${styles.swatch} ${styles.swatchMoving}`} aria-hidden="true" />
            <span className={styles.legendNote}>Striped</span>
            <span className={styles.legendCount}>moving to the outlined node ({moving})</span>
          </li>
        )}
      </ul>
    </div>
  );
}

/** The focusable arcs; memoized so hovering (which only moves the highlight) does not redraw them. */
const Segments = memo(function Segments({
  ring,
  colors,
  tabStop,
  onHover,
  onSelect,
  onKeyDown,
}: {
  ring: Ring;
  colors: ReadonlyMap<string, string>;
  tabStop: number;
  onHover: (index: number | null) => void;
  onSelect: (index: number) => void;
  onKeyDown: (event: KeyboardEvent<SVGGElement>) => void;
}) {
  const size = ring.partitions.length;
  return (
    <g onKeyDown={onKeyDown} onMouseLeave={() => onHover(null)}>
      {ring.partitions.map((p, i) => (
        <path
          key={i}
          d={sectorPath(i, size)}
          className={styles.segment}
          fill={colors.get(p.owner) ?? '#9ca3af'}
          tabIndex={i === tabStop ? 0 : -1}
          role="button"
          aria-label={describe(p, preferenceList(ring, i))}
          data-testid="ring-partition"
          data-index={i}
          data-owner={p.owner}
          data-next={p.next ?? undefined}
          onMouseEnter={() => onHover(i)}
          onFocus={() => onSelect(i)}
          onClick={(e) => {
            onSelect(i);
            e.currentTarget.focus();
          }}
        />
      ))}
    </g>
  );
});

function PartitionDetail({
  ring,
  colors,
  index,
  node,
}: {
  ring: Ring;
  colors: ReadonlyMap<string, string>;
  index: number | null;
  node: string;
}) {
  const p = index !== null ? ring.partitions[index] : undefined;
  if (p === undefined || index === null) {
    return (
      <div className={styles.detail} data-testid="partition-detail">
        <h3 className={styles.sideTitle}>Partition</h3>
        <p className={styles.placeholder}>
          Hover, tap or focus a partition (Tab, then the arrow keys) to see its owner and preference list.
        </p>
      </div>
    );
  }
  const prefs = preferenceList(ring, index);
  return (
    <div className={styles.detail} data-testid="partition-detail" data-index={index}>
      <h3 className={styles.sideTitle}>
        Partition <span className={styles.index}>{index}</span>
      </h3>
      <dl className={styles.facts}>
        <dt>Owner</dt>
        <dd>
          <NodeName name={p.owner} color={colors.get(p.owner)} self={p.owner === node} />
        </dd>
        {p.next && (
          <>
            <dt>Moving to</dt>
            <dd>
              <NodeName name={p.next} color={colors.get(p.next)} self={p.next === node} />
            </dd>
          </>
        )}
      </dl>
      <p className={styles.prefTitle}>Preference list</p>
      <ol className={styles.prefs} data-testid="partition-preference-list">
        {prefs.map((name) => (
          <li key={name} data-node={name}>
            <NodeName name={name} color={colors.get(name)} self={name === node} />
          </li>
        ))}
      </ol>
    </div>
  );
}

function NodeName({ name, color, self }: { name: string; color: string | undefined; self: boolean }) {
  return (
    <span className={styles.nodeName}>
      <span className={styles.swatch} style={{ background: color ?? '#9ca3af' }} aria-hidden="true" />
      {name}
      {self && <span className={styles.self}>(this node)</span>}
    </span>
  );
}
