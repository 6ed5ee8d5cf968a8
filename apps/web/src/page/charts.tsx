// Charts in plain SVG: bars for counts by name, columns for counts along an axis (years, weight ranges).

export interface Datum {
  label: string;
  value: number;
}

const formatCount = (n: number) => n.toLocaleString('en-US');

/** Horizontal bars, largest first as given; each labelled with its name and count. */
export function BarChart({ title, data }: { title: string; data: Datum[] }) {
  const most = Math.max(1, ...data.map((d) => d.value));
  const row = 22;
  const labelWidth = 150;
  const barWidth = 320;
  const height = data.length * row + 8;
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      {data.length === 0 ? (
        <p className="muted">none</p>
      ) : (
        <svg viewBox={`0 0 ${labelWidth + barWidth + 70} ${height}`} role="img" aria-label={title}>
          {data.map((d, i) => (
            <g key={d.label} transform={`translate(0, ${4 + i * row})`}>
              <text x={labelWidth - 6} y={14} textAnchor="end" className="axis-label">
                {d.label}
              </text>
              <rect x={labelWidth} y={3} height={row - 8} width={Math.max(1, (barWidth * d.value) / most)} className="bar" />
              <text x={labelWidth + (barWidth * d.value) / most + 6} y={14} className="value-label">
                {formatCount(d.value)}
              </text>
            </g>
          ))}
        </svg>
      )}
    </figure>
  );
}

/** Vertical columns in the order given (an axis: years, ranges), each labelled underneath. */
export function ColumnChart({ title, data }: { title: string; data: Datum[] }) {
  const most = Math.max(1, ...data.map((d) => d.value));
  const column = Math.max(28, Math.min(64, 480 / Math.max(1, data.length)));
  const plot = 150;
  // Never narrower than a bar chart: a single year would otherwise be drawn as one huge column.
  const width = Math.max(490, data.length * column + 20);
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      {data.length === 0 ? (
        <p className="muted">none</p>
      ) : (
        <svg viewBox={`0 0 ${width} ${plot + 60}`} role="img" aria-label={title}>
          {data.map((d, i) => {
            const h = Math.max(d.value > 0 ? 1 : 0, (plot * d.value) / most);
            const x = 10 + i * column;
            return (
              <g key={d.label}>
                <rect x={x + 3} y={16 + plot - h} width={column - 6} height={h} className="bar" />
                <text x={x + column / 2} y={12 + plot - h} textAnchor="middle" className="value-label">
                  {formatCount(d.value)}
                </text>
                <text
                  x={x + column / 2}
                  y={plot + 32}
                  textAnchor="middle"
                  className="axis-label"
                  transform={`rotate(-30 ${x + column / 2} ${plot + 32})`}
                >
                  {d.label}
                </text>
              </g>
            );
          })}
        </svg>
      )}
    </figure>
  );
}
