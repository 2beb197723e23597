/** Conversions between Docker's resource fields and cgroup file values (as runc does them). */
import { statSync } from 'node:fs';
import { DEFAULT_CPU_PERIOD, MAX_CPU_SHARES, MIN_CPU_SHARES } from '../../core/plugin-api.js';

/** --cpus as a CFS quota over Docker's 100 ms period: 0.5 CPUs → 50000 µs. */
export function nanoCpusToQuota(nanoCpus: number, period = DEFAULT_CPU_PERIOD): number {
  return Math.floor((nanoCpus * period) / 1e9);
}

/** cpu.shares (2..262144, 1024 default) → cgroup v2 cpu.weight (1..10000, 100 default), runc's formula. */
export function sharesToWeight(shares: number): number {
  const s = Math.min(Math.max(shares, MIN_CPU_SHARES), MAX_CPU_SHARES);
  return 1 + Math.floor(((s - 2) * 9999) / 262142);
}

/** blkio weight (10..1000) → io.weight (1..10000), runc's formula. */
export function blkioWeightToIoWeight(weight: number): number {
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

export interface DeviceNumbers {
  readonly major: number;
  readonly minor: number;
}

/** Major and minor of a block device node, e.g. /dev/vda → 254:0 (glibc's gnu_dev_major/minor). */
export function blockDeviceNumbers(path: string): DeviceNumbers {
  let st;
  try {
    st = statSync(path, { bigint: true });
  } catch {
    throw new Error(`${path}: no such device`);
  }
  if (!st.isBlockDevice()) throw new Error(`${path} is not a block device`);
  const dev = st.rdev;
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor) };
}

/** The kernel's "unlimited" for v1 byte counters (PAGE_COUNTER_MAX rounded to pages) is near 2^63. */
export function isUnlimitedV1(bytes: number): boolean {
  return bytes < 0 || bytes >= 2 ** 62;
}
