import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import type { Series } from '../api/ngsi';
import type { Locale } from '../api/types';
import { axisLabel, zoomTo, type TimeRange } from '../lib/history';
import { formatDateTime, formatNumber, TIME_ZONE } from '../lib/time';

interface HistoryChartProps {
  series: Series;
  range: TimeRange;
  label: string;
  /** The legend's name for the time of a point. */
  timeLabel: string;
  /** Shown after values ("µg/m³"); `ratio` values (0–1) are drawn as %. */
  unit?: string;
  ratio?: boolean;
  locale: Locale;
  /** Dark colours (wall mode). */
  dark: boolean;
  onZoom: (r: TimeRange) => void;
  testId: string;
}

const PALETTE = {
  light: { line: '#1d5a8c', band: 'rgba(29, 90, 140, 0.15)', axis: '#4f5d6b', grid: '#e3e9ef' },
  dark: { line: '#7cc0f5', band: 'rgba(124, 192, 245, 0.22)', axis: '#a7b9ca', grid: '#23394f' },
};

/**
 * One attribute's history as a uPlot line (with a min–max band for aggregates). Dragging across
 * it asks for that span (`onZoom`); the x axis always shows the requested range, in Vietnam time.
 */
export function HistoryChart({ series, range, label, timeLabel, unit, ratio, locale, dark, onZoom, testId }: HistoryChartProps) {
  const ref = useRef<HTMLDivElement>(null);
  const onZoomRef = useRef(onZoom);
  useEffect(() => {
    onZoomRef.current = onZoom;
  });

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const k = ratio ? 100 : 1;
    const scale = (v: (number | null)[] | undefined) => (v ?? []).map((x) => (x === null ? null : x * k));
    const aggregated = series.resolution !== 'raw' && series.min && series.max;
    const data: uPlot.AlignedData = aggregated
      ? [series.t, scale(series.v), scale(series.min), scale(series.max)]
      : [series.t, scale(series.v)];
    const c = dark ? PALETTE.dark : PALETTE.light;
    const fromS = range.from / 1000;
    const toS = range.to / 1000;
    const span = toS - fromS;
    const unitText = ratio ? '%' : (unit ?? '');
    const fmt = (v: number | null) => (v === null || v === undefined ? '—' : `${formatNumber(v, locale)}${unitText ? ' ' + unitText : ''}`);
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: dark ? 300 : 220,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), TIME_ZONE),
      scales: { x: { time: true, range: () => [fromS, toS] } },
      cursor: { drag: { x: true, y: false, setScale: false }, sync: { key: 'hd-history' } },
      legend: { show: true, live: true },
      series: [
        { label: timeLabel, value: (_u, v) => (v === null ? '—' : formatDateTime(new Date(v * 1000), locale)) },
        {
          label,
          stroke: c.line,
          width: 2,
          points: { show: !aggregated && series.t.length < 80, size: 5 },
          value: (_u, v) => fmt(v),
        },
        ...(aggregated
          ? [
              { label: 'min', stroke: c.band, width: 1, value: (_u: uPlot, v: number | null) => fmt(v) },
              { label: 'max', stroke: c.band, width: 1, value: (_u: uPlot, v: number | null) => fmt(v) },
            ]
          : []),
      ],
      bands: aggregated ? [{ series: [3, 2], fill: c.band }] : undefined,
      axes: [
        {
          stroke: c.axis,
          grid: { stroke: c.grid, width: 1 },
          ticks: { stroke: c.grid },
          values: (_u, splits) => splits.map((s) => axisLabel(s, span, locale)),
        },
        {
          stroke: c.axis,
          grid: { stroke: c.grid, width: 1 },
          ticks: { stroke: c.grid },
          size: 56,
          values: (_u, splits) => splits.map((s) => formatNumber(s, locale)),
        },
      ],
      hooks: {
        setSelect: [
          (u) => {
            const { left, width } = u.select;
            if (width < 4) return;
            const r = zoomTo(u.posToVal(left, 'x'), u.posToVal(left + width, 'x'));
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            if (r) onZoomRef.current(r);
          },
        ],
      },
    };
    const chart = new uPlot(opts, data, el);
    let lastWidth = el.clientWidth;
    const ro = new ResizeObserver(() => {
      if (el.clientWidth === lastWidth) return;
      lastWidth = el.clientWidth;
      chart.setSize({ width: Math.max(200, el.clientWidth), height: opts.height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      chart.destroy();
    };
  }, [series, range.from, range.to, label, timeLabel, unit, ratio, locale, dark]);

  return (
    <div
      ref={ref}
      className="history-chart"
      data-testid={testId}
      data-points={series.t.length}
      data-resolution={series.resolution}
      role="img"
      aria-label={label}
    />
  );
}
