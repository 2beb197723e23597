/** Docker's human-readable durations and sizes (go-units), so tables read like docker's. */
import { humanDuration } from '../../core/api/human-duration.js';

export { humanDuration };

/** "3 minutes ago" for a moment `ms` before now (the CREATED column). */
export function timeAgo(thenMs: number, nowMs: number): string {
  return `${humanDuration(Math.max(0, nowMs - thenMs))} ago`;
}

/** Go's %.{p}g: p significant digits, no trailing zeros. */
function significant(value: number, precision: number): string {
  return String(Number(value.toPrecision(precision)));
}

const DECIMAL = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];

/** go-units HumanSizeWithPrecision (decimal units): 4261000 → "4.26MB" (image SIZE, NET and BLOCK I/O). */
export function humanSize(bytes: number, precision = 3): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < DECIMAL.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${significant(value, precision)}${DECIMAL[unit]}`;
}

/** go-units BytesSize (binary units, 4 digits): 33554432 → "32MiB" (stats MEM USAGE / LIMIT). */
export { formatBytes as binarySize } from '../../core/limits/bytes.js';

/** Docker's Ellipsis: cut to `max` characters, the last one "…". */
export function ellipsis(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  if (max <= 1) return chars.slice(0, max).join('');
  return `${chars.slice(0, max - 1).join('')}…`;
}

/** A 64-hex id (with or without "sha256:") cut to Docker's 12 characters. */
export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}
