import { InvalidArgumentError } from '../engine/errors.js';

/** Docker's "never" time. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

const NANOS_PER_MS = 1_000_000n;
const NANOS_PER_SECOND = 1_000_000_000n;

/**
 * Nanoseconds since the epoch of an RFC 3339 time with any number of fraction digits
 * ("2026-11-28T16:04:51.592270080Z"); undefined when it does not parse. Exact, unlike Date.
 */
export function toUnixNanos(time: string): bigint | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/i.exec(time);
  if (!m) {
    const ms = Date.parse(time);
    return Number.isNaN(ms) ? undefined : BigInt(ms) * NANOS_PER_MS;
  }
  const seconds = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(seconds)) return undefined;
  const fraction = (m[2] ?? '').padEnd(9, '0').slice(0, 9);
  return BigInt(seconds) * NANOS_PER_MS + BigInt(fraction);
}

/** Milliseconds since the epoch (NaN when the time does not parse). */
export function toMillis(time: string): number {
  const n = toUnixNanos(time);
  return n === undefined ? Number.NaN : Number(n / NANOS_PER_MS);
}

/** Whole seconds since the epoch, as Docker's `Created` fields (0 when unparsable). */
export function toUnixSeconds(time: string): number {
  const n = toUnixNanos(time);
  if (n === undefined) return 0;
  const s = n / NANOS_PER_SECOND;
  return Number(n < 0n && n % NANOS_PER_SECOND !== 0n ? s - 1n : s);
}

/** RFC 3339 with exactly nine fraction digits, UTC (Docker's RFC3339NanoFixed, used by logs). */
export function fromUnixNanos(nanos: bigint): string {
  let seconds = nanos / NANOS_PER_SECOND;
  let fraction = nanos % NANOS_PER_SECOND;
  if (fraction < 0n) {
    fraction += NANOS_PER_SECOND;
    seconds -= 1n;
  }
  const iso = new Date(Number(seconds) * 1000).toISOString(); // "...T16:04:51.000Z"
  return `${iso.slice(0, 19)}.${fraction.toString().padStart(9, '0')}Z`;
}

/** An RFC 3339 time normalised to nine fraction digits (unparsable input is returned as is). */
export function fixedNanos(time: string): string {
  const n = toUnixNanos(time);
  return n === undefined ? time : fromUnixNanos(n);
}

/**
 * A Docker API time parameter (`since`, `until`): unix seconds with an optional fraction
 * ("1700000000", "1700000000.123456789") or an RFC 3339 time. Returns nanoseconds since the epoch.
 */
export function parseDockerTime(value: string, name: string): bigint {
  const v = value.trim();
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(v);
  if (m) return BigInt(m[1]!) * NANOS_PER_SECOND + BigInt((m[2] ?? '').padEnd(9, '0'));
  const n = toUnixNanos(v);
  if (n === undefined) throw new InvalidArgumentError(`invalid value for ${name}: ${value}: expected unix seconds or an RFC 3339 time`);
  return n;
}
