/**
 * Wall clock minus monotonic clock, in ms. Date.now() is whole milliseconds, so each reading only
 * bounds the true offset from below; the largest reading seen converges on it.
 */
let wallMinusMonotonic = Number.NEGATIVE_INFINITY;

/**
 * The current UTC time as RFC 3339 with nanoseconds ("2026-11-28T16:04:51.592270080Z"), the format of
 * every envelope's `time`: the monotonic clock's sub-millisecond precision, kept on the wall clock.
 * When the wall clock was set back by more than a millisecond, it follows the wall clock.
 */
export function utcNow(): string {
  const monotonic = performance.now();
  const reading = Date.now() - monotonic;
  if (reading > wallMinusMonotonic || reading < wallMinusMonotonic - 1) wallMinusMonotonic = reading;
  const ms = monotonic + wallMinusMonotonic;
  const wholeMs = Math.floor(ms);
  const subMsNanos = Math.min(999_999, Math.floor((ms - wholeMs) * 1e6));
  const iso = new Date(wholeMs).toISOString(); // 2026-11-28T16:04:51.592Z
  const nanos = (wholeMs % 1000) * 1_000_000 + subMsNanos;
  return `${iso.slice(0, 19)}.${String(nanos).padStart(9, '0')}Z`;
}
