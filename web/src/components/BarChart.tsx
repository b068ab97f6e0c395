// A stacked bar chart per day in SVG (no chart library), with a legend and
// the same figures as a table for screen readers.
export interface Series { key: string; label: string; color: string }

export const SOURCE_COLORS: Record<string, string> = {
  gift: '#a78bfa', tip: '#f5a524', subscription: '#22c55e', ad: '#38bdf8', sales: '#f472b6',
};

type Day = { date: string };

/** niceMax rounds a maximum up to 1, 2 or 5 times a power of ten, so the axis reads well. */
export function niceMax(n: number): number {
  if (n <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}

const shortDate = (d: string) => {
  const t = Date.parse(`${d}T00:00:00Z`);
  return Number.isNaN(t) ? d : new Date(t).toLocaleDateString(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
};

export function BarChart({ title, days, series, unit = 'coins' }: { title: string; days: Day[]; series: Series[]; unit?: string }) {
  const W = 960;
  const H = 240;
  const L = 48;
  const R = 8;
  const T = 10;
  const B = 24;
  const val = (d: Day, k: string) => Math.max(0, Number((d as Record<string, unknown>)[k]) || 0);
  const totals = days.map((d) => series.reduce((n, s) => n + val(d, s.key), 0));
  const max = niceMax(Math.max(1, ...totals));
  const slot = (W - L - R) / Math.max(1, days.length);
  const bw = Math.max(2, slot * 0.7);
  const y = (v: number) => T + (H - T - B) * (1 - v / max);
  const every = Math.ceil(days.length / 8);
  const id = title.replace(/\W+/g, '-').toLowerCase();
  return (
    <figure class="chart" data-testid="bar-chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${id}-t`}>
        <title id={`${id}-t`}>{title}</title>
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line x1={L} x2={W - R} y1={y(max * f)} y2={y(max * f)} class="chart-grid" />
            <text x={L - 6} y={y(max * f) + 4} text-anchor="end" class="chart-label">{Math.round(max * f).toLocaleString('en-US')}</text>
          </g>
        ))}
        {days.map((d, i) => {
          let acc = 0;
          const x = L + i * slot + (slot - bw) / 2;
          return (
            <g key={d.date}>
              {series.map((s) => {
                const v = val(d, s.key);
                if (!v) return null;
                const y0 = y(acc);
                acc += v;
                const y1 = y(acc);
                return <rect key={s.key} x={x} y={y1} width={bw} height={Math.max(1, y0 - y1)} fill={s.color} rx={1}><title>{`${shortDate(d.date)} · ${s.label}: ${v.toLocaleString('en-US')} ${unit}`}</title></rect>;
              })}
              {i % every === 0 && <text x={x + bw / 2} y={H - 6} text-anchor="middle" class="chart-label">{shortDate(d.date)}</text>}
            </g>
          );
        })}
      </svg>
      <figcaption class="chart-legend">
        {series.map((s) => <span key={s.key}><span class="swatch" data-source={s.key} aria-hidden="true" /> {s.label}</span>)}
      </figcaption>
      <table class="sr-only">
        <caption>{title}</caption>
        <thead><tr><th scope="col">Date</th>{series.map((s) => <th key={s.key} scope="col">{s.label}</th>)}</tr></thead>
        <tbody>{days.map((d) => <tr key={d.date}><th scope="row">{d.date}</th>{series.map((s) => <td key={s.key}>{val(d, s.key)}</td>)}</tr>)}</tbody>
      </table>
    </figure>
  );
}
