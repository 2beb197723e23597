/** Small text helpers of the page. */
import type { UiLimits } from './api.js';

export function shortId(id: string): string {
  return id.slice(0, 12);
}

/** "1.5 MiB" (binary units, as docker images shows sizes near enough). */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : Number(v.toFixed(1))} ${units[u]}`;
}

/** An event's time as "2026-11-28 03:12:04.512" (UTC, what the log stores). */
export function clock(time: string): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d{1,3})?/.exec(time);
  return m ? `${m[1]} ${m[2]}${m[3] ?? ''}` : time;
}

export function spanMs(from: string, to: string): number {
  return Math.max(0, Date.parse(to) - Date.parse(from));
}

export function secondsOf(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`;
}

/** "memory 32 MiB, 0.5 CPUs, pids 100" from Docker's HostConfig fields. */
export function describeLimits(limits: UiLimits): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(limits)) {
    if (typeof value === 'number' && (key === 'Memory' || key === 'MemorySwap' || key === 'MemoryReservation')) parts.push(`${key === 'Memory' ? 'memory' : key} ${value < 0 ? 'unlimited' : bytes(value)}`);
    else if (key === 'NanoCpus' && typeof value === 'number') parts.push(`${value / 1e9} CPUs`);
    else if (key === 'PidsLimit') parts.push(`pids ${value}`);
    else parts.push(`${key} ${value}`);
  }
  return parts.length > 0 ? parts.join(', ') : 'none';
}
