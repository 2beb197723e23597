/** The `--log-opt` values json-file understands, parsed. */
export interface JsonFileOptions {
  /** Bytes per file before rotating; 0 = no rotation (Docker's default). */
  readonly maxSize: number;
  /** Files kept in all, the current one included (the rotated ones are `.1` ... `.maxFile-1`). */
  readonly maxFile: number;
}

const SIZE = /^(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?$/i;
const UNITS: Readonly<Record<string, number>> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
const KNOWN = ['max-size', 'max-file'];

/**
 * Validates and parses json-file's options. Throws an Error with a one-line message naming the
 * option for an unknown key or a bad value. max-size takes k/m/g units (binary, as Docker's);
 * "-1" means unlimited. max-file without max-size has no effect, as in Docker.
 */
export function parseJsonFileOptions(options: Readonly<Record<string, string>>): JsonFileOptions {
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key)) {
      throw new Error(`unknown log-opt "${key}" for log driver json-file (supported: ${KNOWN.join(', ')})`);
    }
  }
  return { maxSize: parseMaxSize(options['max-size']), maxFile: parseMaxFile(options['max-file']) };
}

function parseMaxSize(value: string | undefined): number {
  if (value === undefined || value.trim() === '-1') return 0;
  const m = SIZE.exec(value.trim());
  const bytes = m ? Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new Error(`invalid log-opt max-size "${value}": expected a positive size such as 10m (units k, m, g) or -1`);
  }
  return bytes;
}

function parseMaxFile(value: string | undefined): number {
  if (value === undefined) return 1;
  const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new Error(`invalid log-opt max-file "${value}": expected a whole number of files, at least 1`);
  }
  return n;
}
