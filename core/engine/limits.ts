import type { Limits } from '../../events/index.js';

const LIMIT_KEYS: readonly (keyof Limits)[] = [
  'Memory', 'MemorySwap', 'MemoryReservation', 'NanoCpus', 'CpuQuota', 'CpuPeriod', 'CpuShares', 'CpusetCpus', 'CpusetMems',
  'PidsLimit', 'BlkioWeight', 'BlkioDeviceReadBps', 'BlkioDeviceWriteBps',
];

/** Only the limits that are set (not undefined), so an empty object means "no limits". */
export function pickLimits(source: Partial<Limits>): Limits {
  const out: Record<string, unknown> = {};
  for (const k of LIMIT_KEYS) {
    const v = source[k];
    if (v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0) && v !== '' && v !== 0) out[k] = v;
  }
  return out as Limits;
}

/** Image env first, then the container's: a later KEY=... overrides an earlier one. */
export function mergeEnv(image: readonly string[], own: readonly string[]): string[] {
  const byKey = new Map<string, string>();
  for (const e of [...image, ...own]) byKey.set(e.split('=', 1)[0]!, e);
  return [...byKey.values()];
}
