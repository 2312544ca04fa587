// Small charts drawn as SVG here rather than a charting library: the pages need a few bars (the
// funnel, a flow's steps), the Content-Security-Policy allows only the server's own scripts, and a
// library would be a dependency to embed and keep current for what fits in these lines.

const NS = 'http://www.w3.org/2000/svg';

function svg(tag, attributes, text) {
  const element = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

/**
 * Horizontal bars, one a row: `rows` of `{label, value}`, each bar's length in proportion to the
 * largest. `title` names the chart for assistive technology, which also gets each row as text.
 */
export function barChart(rows, title) {
  const rowHeight = 26;
  const labelWidth = 110;
  const width = 420;
  const largest = Math.max(1, ...rows.map((row) => row.value));
  const chart = svg('svg', { viewBox: `0 0 ${width} ${rows.length * rowHeight}`, role: 'img', 'aria-label': title, class: 'chart' });
  chart.append(svg('title', {}, `${title}: ${rows.map((row) => `${row.label} ${row.value}`).join(', ')}`));
  rows.forEach((row, index) => {
    const y = index * rowHeight;
    const length = Math.round(((width - labelWidth - 50) * row.value) / largest);
    chart.append(
      svg('text', { x: 0, y: y + 17, class: 'chart-label' }, row.label),
      svg('rect', { x: labelWidth, y: y + 5, width: Math.max(length, row.value > 0 ? 2 : 0), height: rowHeight - 10, rx: 3, class: 'chart-bar' }),
      svg('text', { x: labelWidth + length + 6, y: y + 17, class: 'chart-value' }, row.value));
  });
  return chart;
}
