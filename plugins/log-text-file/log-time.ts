const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9})\d*)?([Zz]|[+-]\d{2}:\d{2})$/;
const UNIX_SECONDS = /^(\d+)(?:\.(\d{1,9}))?$/;

/**
 * Nanoseconds since the Unix epoch of an RFC 3339 time ("2026-01-02T03:04:05.123456789Z", any
 * number of fraction digits, any UTC offset) or of Unix seconds ("1767323045.5").
 * Strings cannot be compared directly: RFC 3339 nano drops trailing zeros (".1Z" > ".123Z").
 * Throws an Error naming the value when it is neither.
 */
export function parseLogTime(value: string): bigint {
  const unix = UNIX_SECONDS.exec(value);
  if (unix) return BigInt(unix[1]!) * 1_000_000_000n + fractionNanos(unix[2]);
  const m = RFC3339.exec(value);
  if (!m) throw new Error(`invalid time "${value}": expected RFC 3339 (2026-01-02T03:04:05.123Z) or Unix seconds`);
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone!.startsWith('-') ? -1 : 1;
    ms -= sign * (Number(zone!.slice(1, 3)) * 60 + Number(zone!.slice(4, 6))) * 60_000;
  }
  return BigInt(ms) * 1_000_000n + fractionNanos(frac);
}

function fractionNanos(frac: string | undefined): bigint {
  return frac ? BigInt(frac.padEnd(9, '0')) : 0n;
}
