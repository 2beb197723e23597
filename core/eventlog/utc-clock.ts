/**
 * The current UTC time as RFC 3339 with nanoseconds ("2026-11-28T16:04:51.592270080Z"), the format of
 * every envelope's `time`. Sub-millisecond digits come from the monotonic clock anchored at process
 * start; when the wall clock was adjusted since (they disagree by a millisecond or more), it falls
 * back to the wall clock's milliseconds rather than report a time that drifted away from it.
 */
export function utcNow(): string {
  const wallMs = Date.now();
  const preciseMs = performance.timeOrigin + performance.now();
  const ms = Math.abs(preciseMs - wallMs) < 1 ? preciseMs : wallMs;
  const wholeMs = Math.floor(ms);
  const subMsNanos = Math.min(999_999, Math.round((ms - wholeMs) * 1e6));
  const iso = new Date(wholeMs).toISOString(); // 2026-11-28T16:04:51.592Z
  const nanos = (wholeMs % 1000) * 1_000_000 + subMsNanos;
  return `${iso.slice(0, 19)}.${String(nanos).padStart(9, '0')}Z`;
}
