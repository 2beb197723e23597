import { fromUnixNanos } from '../../core/api/time.js';

/**
 * Time values the way docker's `--since`/`--until` read them (GetTimestamp): a Go duration relative
 * to now ("10m", "1h30m", "1.5h"), unix seconds ("1700000000", "1700000000.5"), or an RFC 3339-like
 * date ("2026-11-28", "2026-11-28T16:04", "2026-11-28T16:04:51.5Z", "…+01:00"; local time without a
 * zone). Everything is nanoseconds since the epoch as a bigint, so no precision is lost.
 */

/** "2026-11-28T16:04:51.592270080Z": UTC with nine fraction digits, like docker's events output. */
export { fromUnixNanos as formatRfc3339Nano };

const NANOS_PER_SECOND = 1_000_000_000n;

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Go's time.ParseDuration, in nanoseconds; null when it is not a duration. */
export function parseGoDuration(text: string): bigint | null {
  const m = /^([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.exec(text);
  if (!m) return text === '0' ? 0n : null;
  let total = 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;
  let part: RegExpExecArray | null;
  while ((part = re.exec(text)) !== null) total += Number(part[1]) * DURATION_UNITS[part[2]!]!;
  const nanos = BigInt(Math.round(total));
  return m[1] === '-' ? -nanos : nanos;
}

/** Nanoseconds of an RFC 3339 time with any number of fraction digits (up to 9 count). */
export function parseRfc3339(text: string): bigint | null {
  return parseDate(text, true);
}

function parseDate(text: string, requireZone: boolean): bigint | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?)?(Z|z|[+-]\d{2}:\d{2})?$/.exec(text);
  if (!m) return null;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
  if (requireZone && (zone === undefined || m[4] === undefined)) return null;
  const fields = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)] as const;
  let ms: number;
  if (zone === undefined) {
    ms = new Date(...fields).getTime();
  } else {
    ms = Date.UTC(...fields);
    if (zone !== 'Z' && zone !== 'z') {
      const sign = zone.startsWith('-') ? -1 : 1;
      ms -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
    }
  }
  if (Number.isNaN(ms)) return null;
  const nanos = BigInt(frac.padEnd(9, '0').slice(0, 9));
  return BigInt(ms) * 1_000_000n + nanos;
}

/** Docker's GetTimestamp, as nanoseconds since the epoch. Throws on anything else. */
export function parseTimeValue(value: string, nowMs: number = Date.now()): bigint {
  const text = value.trim();
  const duration = text === '0' ? null : parseGoDuration(text);
  if (duration !== null) return BigInt(nowMs) * 1_000_000n - duration;
  const unix = /^(\d+)(?:\.(\d{1,9}))?$/.exec(text);
  if (unix) return BigInt(unix[1]!) * NANOS_PER_SECOND + BigInt((unix[2] ?? '').padEnd(9, '0'));
  const date = parseDate(text, false);
  if (date !== null) return date;
  throw new Error(`failed to parse value as time or duration: ${JSON.stringify(value)}`);
}

/**
 * The API's since/until value for a flag, exactly as docker's GetTimestamp makes it: whole unix
 * seconds for a relative duration, the number as typed for unix seconds, "sec.nanos" for a date.
 */
export function apiTimeParam(value: string, nowMs: number = Date.now()): string {
  const text = value.trim();
  const nanos = parseTimeValue(text, nowMs);
  if (text !== '0' && parseGoDuration(text) !== null) return String(nanos / NANOS_PER_SECOND - (nanos % NANOS_PER_SECOND < 0n ? 1n : 0n));
  if (/^\d+(\.\d{1,9})?$/.test(text)) return text;
  return formatUnixSeconds(nanos);
}

/** "1700000000.000000000": unix seconds with nine fraction digits. */
export function formatUnixSeconds(nanos: bigint): string {
  const sec = nanos / NANOS_PER_SECOND;
  const frac = nanos % NANOS_PER_SECOND;
  return `${sec}.${frac.toString().padStart(9, '0')}`;
}

/** A replay point: a plain integer is a log position, anything else a time (see parseTimeValue). */
export type ReplayPoint = { readonly position: number } | { readonly time: string };

/** Reads `replay --until`: "42" → position 42; "10m", "2026-11-28T16:00:00Z", "1700000000.5" → a time. */
export function parseReplayPoint(value: string, nowMs: number = Date.now()): ReplayPoint {
  if (/^\d+$/.test(value.trim())) return { position: Number(value.trim()) };
  return { time: fromUnixNanos(parseTimeValue(value, nowMs)) };
}
