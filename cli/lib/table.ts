/**
 * Tables the way docker prints them: Go's tabwriter with minwidth 10, padding 3, spaces. Every
 * column but the last is padded to max(10, widest cell + 3); the last one is not padded.
 */

const MIN_WIDTH = 10;
const PADDING = 3;

function width(text: string): number {
  return [...text].length;
}

/** Renders rows (the header first, if any) as aligned text lines, each ending with "\n". */
export function renderTable(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '';
  const columns = Math.max(...rows.map((r) => r.length));
  const widths: number[] = [];
  for (let c = 0; c < columns - 1; c++) {
    widths.push(Math.max(MIN_WIDTH, ...rows.map((r) => width(r[c] ?? '') + PADDING)));
  }
  return rows
    .map((row) => {
      let line = '';
      for (let c = 0; c < row.length; c++) {
        const cell = row[c] ?? '';
        line += c < row.length - 1 ? cell + ' '.repeat(widths[c]! - width(cell)) : cell;
      }
      return `${line.trimEnd()}\n`;
    })
    .join('');
}
