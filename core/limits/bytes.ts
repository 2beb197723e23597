/** Byte sizes the way Docker reads and prints them: binary units (1k = 1024). */

const UNITS: Readonly<Record<string, number>> = {
  '': 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

// Docker's go-units RAMInBytes: "2000m", "0.5g", "128M", "1024k", "512b", "1kb", "1 GiB", "4096".
const SIZE = /^(\d+(?:\.\d+)?) ?([kmgtp]?)(?:i?b)?$/i;

/** Bytes in a size such as "0.5g" (fractions are truncated to whole bytes); null when it is not a size. */
export function bytesIn(value: string): number | null {
  const m = SIZE.exec(value.trim());
  if (!m) return null;
  const bytes = Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
  return Number.isSafeInteger(bytes) ? bytes : null;
}

const NAMES = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** Docker's units.BytesSize: 33554432 → "32MiB", 1500 → "1.465KiB" (4 significant digits). */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < NAMES.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${Number(value.toPrecision(4))}${NAMES[unit]}`;
}
