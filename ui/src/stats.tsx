// The webhook page's charts: deliveries by outcome and attempt latency per bucket (GET .../stats),
// drawn by uPlot on a canvas as wide as the card, with a text summary and a table for screen readers.
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { api, type StatsWindow, type WebhookStats } from './api';
import { ErrorText, Section, time, useAction } from './ui';

const WINDOWS: { value: StatsWindow; label: string }[] = [
  { value: 'hour', label: 'Last hour' },
  { value: 'day', label: 'Last day' },
  { value: 'week', label: 'Last week' },
];
const OUTCOMES = [
  { key: 'succeeded', label: 'Succeeded', color: '#1a7f37' },
  { key: 'failed', label: 'Failed', color: '#cf222e' },
  { key: 'retrying', label: 'Retrying', color: '#9a6700' },
  { key: 'held', label: 'Held', color: '#57606a' },
] as const;
const LATENCIES = [
  { key: 'p50Ms', label: 'p50 (ms)', color: '#0969da' },
  { key: 'p95Ms', label: 'p95 (ms)', color: '#8250df' },
] as const;
type Series = readonly { key: string; label: string; color: string }[];

/**
 * One uPlot chart that follows its container's width (a phone's too). `stacked`: bars, each
 * series on top of the ones before it (drawn as running totals, the largest first); else lines
 * with every point shown, so a lone bucket's value is seen too.
 */
function Chart({ stats, series, stacked }: { stats: WebhookStats; series: Series; stacked: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current!;
    const values = series.map((s) => stats.buckets.map((b) => b[s.key as keyof typeof b] as number | null));
    const shown = stacked
      ? values.map((_, i) =>
          stats.buckets.map((_b, j) => values.slice(0, i + 1).reduce((n, v) => n + (v[j] ?? 0), 0) || null),
        )
      : values;
    const order = stacked ? series.map((_, i) => series.length - 1 - i) : series.map((_, i) => i);
    const bars = uPlot.paths.bars!({ size: [0.8, 48] });
    const chart = new uPlot(
      {
        width: el.clientWidth,
        height: 180,
        legend: { show: false },
        cursor: { show: false },
        series: [
          {},
          ...order.map((i) =>
            stacked
              ? {
                  label: series[i].label,
                  stroke: series[i].color,
                  fill: series[i].color,
                  paths: bars,
                  points: { show: false },
                }
              : {
                  label: series[i].label,
                  stroke: series[i].color,
                  width: 2,
                  spanGaps: true,
                  points: { show: true, size: 6, fill: series[i].color },
                },
          ),
        ],
        scales: {
          // Half a bucket either side, so the first and last bars are whole.
          x: {
            time: true,
            range: (_u, min, max) => [min - stats.bucketSeconds / 2, max + stats.bucketSeconds / 2],
          },
          y: { range: (_u, _min, max) => [0, Math.max(1, max)] },
        },
      },
      [stats.buckets.map((b) => Date.parse(b.start) / 1000), ...order.map((i) => shown[i])],
      el,
    );
    const resize = new ResizeObserver(() => chart.setSize({ width: el.clientWidth, height: 180 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [stats, series, stacked]);
  // The canvas says nothing to a screen reader; the summary and the table say it all.
  return (
    <>
      <div ref={box} class="chart" aria-hidden="true" />
      <ul class="legend" aria-hidden="true">
        {series.map((s) => (
          <li key={s.key}>
            <span class="swatch" style={{ background: s.color }} />
            {s.label}
          </li>
        ))}
      </ul>
    </>
  );
}

const sum = (stats: WebhookStats, key: (typeof OUTCOMES)[number]['key'] | 'attempts') =>
  stats.buckets.reduce((n, b) => n + b[key], 0);
/** The slowest bucket's value: a window-wide percentile would need every attempt. */
const worst = (stats: WebhookStats, key: 'p50Ms' | 'p95Ms') => {
  const values = stats.buckets.map((b) => b[key]).filter((v): v is number => v !== null);
  return values.length ? Math.max(...values) : null;
};

/** The charts' words: what a sighted reader takes from them at a glance. */
function summary(stats: WebhookStats, label: string): string {
  const counts = OUTCOMES.map((o) => `${sum(stats, o.key)} ${o.key}`).join(', ');
  const p50 = worst(stats, 'p50Ms');
  const latency =
    p50 === null
      ? 'no attempts'
      : `${sum(stats, 'attempts')} attempts, p50 up to ${p50} ms, p95 up to ${worst(stats, 'p95Ms')} ms`;
  return `${label}: ${counts}; ${latency}.`;
}

/** Loads on mount, on a window change and a second after the log's last notice (`version`). */
export function StatsPanel({ webhookId, version }: { webhookId: string; version: number }) {
  const [statsWindow, setStatsWindow] = useState<StatsWindow>('day');
  const [stats, setStats] = useState<WebhookStats | null>(null);
  const load = useAction();
  const windowLabel = WINDOWS.find((w) => w.value === statsWindow)!.label;

  useEffect(() => {
    const timer = setTimeout(
      () => load.run(async () => setStats(await api.stats(webhookId, statsWindow))),
      version ? 1_000 : 0,
    );
    return () => clearTimeout(timer);
  }, [webhookId, statsWindow, version]);

  const shown = stats?.window === statsWindow ? stats : null;
  return (
    <Section title="Deliveries and latency" id="stats-title" class="card">
      <div class="row">
        <label for="stats-window">Window</label>
        <select
          id="stats-window"
          value={statsWindow}
          onChange={(e) => setStatsWindow(e.currentTarget.value as StatsWindow)}
        >
          {WINDOWS.map((w) => (
            <option key={w.value} value={w.value}>
              {w.label}
            </option>
          ))}
        </select>
      </div>
      <ErrorText error={load.error} />
      {shown && (
        <>
          <p id="stats-summary">{summary(shown, windowLabel)}</p>
          <div class="charts">
            <figure>
              <figcaption>Deliveries by outcome, by when they were created</figcaption>
              <Chart stats={shown} series={OUTCOMES} stacked />
            </figure>
            <figure>
              <figcaption>Attempt latency (p50 and p95), by when they started</figcaption>
              <Chart stats={shown} series={LATENCIES} stacked={false} />
            </figure>
          </div>
          <details>
            <summary>The numbers as a table</summary>
            <div class="table-scroll">
              <table>
                <caption>
                  {windowLabel}, per{' '}
                  {shown.bucketSeconds >= 3_600
                    ? `${shown.bucketSeconds / 3_600} h`
                    : `${shown.bucketSeconds / 60} min`}{' '}
                  (buckets with deliveries or attempts)
                </caption>
                <thead>
                  <tr>
                    <th scope="col">From</th>
                    {OUTCOMES.map((o) => (
                      <th key={o.key} scope="col">
                        {o.label}
                      </th>
                    ))}
                    <th scope="col">Attempts</th>
                    {LATENCIES.map((l) => (
                      <th key={l.key} scope="col">
                        {l.label}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {shown.buckets
                    .filter((b) => b.attempts > 0 || OUTCOMES.some((o) => b[o.key] > 0))
                    .map((b) => (
                      <tr key={b.start}>
                        <th scope="row">{time(b.start)}</th>
                        {OUTCOMES.map((o) => (
                          <td key={o.key}>{b[o.key]}</td>
                        ))}
                        <td>{b.attempts}</td>
                        {LATENCIES.map((l) => (
                          <td key={l.key}>{b[l.key] ?? '–'}</td>
                        ))}
                      </tr>
                    ))}
                </tbody>
              </table>
            </div>
          </details>
        </>
      )}
    </Section>
  );
}
