// The benches' tables on a terminal: columns padded to their widest cell and two spaces apart,
// a rule of dashes under the header. (@trajectory/samples' formatTable writes Markdown instead.)

/** `rows` under `header`, one line each: the first `left` columns left-aligned, the rest right-aligned. */
export function plainTable(header, rows, { left = 1 } = {}) {
  const widths = header.map((h, i) => Math.max(String(h).length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i < left ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The same for rows that are objects, their keys (those of the first row) the header. */
export function plainTableOf(objects, options) {
  const header = Object.keys(objects[0]);
  return plainTable(
    header,
    objects.map((o) => header.map((key) => o[key])),
    options,
  );
}
