/**
 * Docker-style resource flags (`run -m 128m --cpus 0.5 ...`) turned into the `Limits` of a
 * HostConfig. Pure: no file system, no host facts (how many CPUs this host has is the limiter
 * driver's `validate`). Every error is one line naming the flag and the value.
 */
import type { Limits, ThrottleDevice } from '../../events/index.js';
import { bytesIn, formatBytes } from './bytes.js';
import { listMembers } from './cpuset.js';

/** Flag values as the CLI parsed them, keyed by the long flag name. */
export interface LimitFlags {
  /** -m, --memory: "128m", "0.5g", bytes. */
  readonly memory?: string;
  /** --memory-swap: memory + swap, or -1 for unlimited swap. */
  readonly 'memory-swap'?: string;
  /** --memory-reservation: soft limit. */
  readonly 'memory-reservation'?: string;
  /** -c: the original project's cgroup v2 cpu.max form, "QUOTA PERIOD" ("10000 100000", "max 100000"). */
  readonly 'cpu-max'?: string;
  /** --cpus: "0.5" CPUs. */
  readonly cpus?: string | number;
  readonly 'cpu-quota'?: string | number;
  readonly 'cpu-period'?: string | number;
  readonly 'cpu-shares'?: string | number;
  readonly 'cpuset-cpus'?: string;
  readonly 'cpuset-mems'?: string;
  readonly 'pids-limit'?: string | number;
  readonly 'blkio-weight'?: string | number;
  /** --device-read-bps, repeatable: "/dev/sda:1mb". */
  readonly 'device-read-bps'?: readonly string[];
  readonly 'device-write-bps'?: readonly string[];
}

/** Docker's smallest memory limit (linuxMinMemory). */
export const MIN_MEMORY = 6 * 1024 * 1024;
export const MIN_CPU_PERIOD = 1000;
export const MAX_CPU_PERIOD = 1_000_000;
export const MIN_CPU_QUOTA = 1000;
/** The CFS period `--cpus` uses (Docker's). */
export const DEFAULT_CPU_PERIOD = 100_000;
export const MIN_CPU_SHARES = 2;
export const MAX_CPU_SHARES = 262_144;

function invalid(flag: string, value: string | number, why: string): Error {
  return new Error(`invalid value "${value}" for ${flag}: ${why}`);
}

function integerIn(value: string | number, flag: string, why: string): number {
  const text = String(value).trim();
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw invalid(flag, value, why);
  return Number(text);
}

/** A size with an optional unit b, k, m or g ("512b", "1024k", "128M", "0.5g", "4096"). */
export function parseBytes(value: string, flag: string): number {
  const bytes = bytesIn(value);
  if (bytes === null) throw invalid(flag, value, 'use a number with an optional unit b, k, m or g');
  return bytes;
}

/** -m/--memory: 0 is unlimited, otherwise at least 6m. */
export function parseMemory(value: string, flag = '--memory'): number {
  const bytes = parseBytes(value, flag);
  if (bytes !== 0 && bytes < MIN_MEMORY) throw invalid(flag, value, `the minimum is 6m (${MIN_MEMORY} bytes)`);
  return bytes;
}

/** --memory-swap: memory plus swap in bytes, or -1 for unlimited swap. */
export function parseMemorySwap(value: string, flag = '--memory-swap'): number {
  if (value.trim() === '-1') return -1;
  const bytes = bytesIn(value);
  if (bytes === null) throw invalid(flag, value, 'use -1 (unlimited swap) or a number with an optional unit b, k, m or g');
  return bytes;
}

/** --memory-reservation: a soft limit, 0 or at least 6m. */
export function parseMemoryReservation(value: string, flag = '--memory-reservation'): number {
  return parseMemory(value, flag);
}

/**
 * --cpus "1.5" → 1500000000 nano CPUs; at least 0.01. Docker reads `--cpus 0` as "no limit"; here
 * it is refused, since a limit of nothing that silently means no limit is surely a mistake (leave
 * the flag out for no limit). NanoCpus 0 in an API body still means unset.
 */
export function parseCpus(value: string | number, flag = '--cpus'): number {
  const text = String(value).trim();
  const m = /^(\d*)(?:\.(\d*))?$/.exec(text);
  if (!m || text === '' || text === '.') throw invalid(flag, value, 'use a number of CPUs such as 0.5 or 2');
  const fraction = m[2] ?? '';
  if (fraction.replace(/0+$/, '').length > 9) throw invalid(flag, value, 'the value is too precise (at most 9 decimals)');
  const nanos = Number(m[1] || '0') * 1e9 + Number(fraction.padEnd(9, '0').slice(0, 9));
  if (!Number.isSafeInteger(nanos)) throw invalid(flag, value, 'the number is too large');
  if (nanos === 0) throw invalid(flag, value, 'the minimum is 0.01 CPUs (leave the flag out for no limit)');
  if (nanos < 1e7) throw invalid(flag, value, 'the minimum is 0.01 CPUs');
  return nanos;
}

/** --cpu-quota in microseconds per period: -1 unlimited, 0 unset, otherwise at least 1000. */
export function parseCpuQuota(value: string | number, flag = '--cpu-quota'): number {
  const why = `use -1 (unlimited) or microseconds per period, at least ${MIN_CPU_QUOTA}`;
  const quota = integerIn(value, flag, why);
  if (quota < -1 || (quota > 0 && quota < MIN_CPU_QUOTA)) throw invalid(flag, value, why);
  return quota;
}

/** --cpu-period in microseconds: 0 unset, otherwise 1000..1000000. */
export function parseCpuPeriod(value: string | number, flag = '--cpu-period'): number {
  const why = `use microseconds from ${MIN_CPU_PERIOD} to ${MAX_CPU_PERIOD}`;
  const period = integerIn(value, flag, why);
  if (period !== 0 && (period < MIN_CPU_PERIOD || period > MAX_CPU_PERIOD)) throw invalid(flag, value, why);
  return period;
}

/**
 * -c, the original project's cpu.max form: "QUOTA PERIOD" ("10000 100000" is 10% of one CPU),
 * "max PERIOD" (no quota), or just "QUOTA" (period 100000). "max" becomes CpuQuota -1.
 */
export function parseCpuMax(value: string, flag = '-c'): { CpuQuota: number; CpuPeriod: number } {
  const why = `use "QUOTA PERIOD" in microseconds such as "10000 100000", or "max 100000"`;
  const parts = value.trim().split(/\s+/);
  if (parts.length > 2 || parts[0] === '') throw invalid(flag, value, why);
  const [quotaText, periodText = String(DEFAULT_CPU_PERIOD)] = parts as [string, string?];
  const quota = quotaText === 'max' ? -1 : integerIn(quotaText, flag, why);
  if (quota !== -1 && quota < MIN_CPU_QUOTA) {
    throw invalid(flag, value, `the quota must be "max" or at least ${MIN_CPU_QUOTA} microseconds (${why})`);
  }
  const period = integerIn(periodText, flag, why);
  if (period < MIN_CPU_PERIOD || period > MAX_CPU_PERIOD) {
    throw invalid(flag, value, `the period must be from ${MIN_CPU_PERIOD} to ${MAX_CPU_PERIOD} microseconds`);
  }
  return { CpuQuota: quota, CpuPeriod: period };
}

/** --cpu-shares: relative weight, 0 (default, 1024) or 2..262144. */
export function parseCpuShares(value: string | number, flag = '--cpu-shares'): number {
  const why = `use 0 (default) or a relative weight from ${MIN_CPU_SHARES} to ${MAX_CPU_SHARES} (1024 is the default weight)`;
  const shares = integerIn(value, flag, why);
  if (shares !== 0 && (shares < MIN_CPU_SHARES || shares > MAX_CPU_SHARES)) throw invalid(flag, value, why);
  return shares;
}

/** --cpuset-cpus / --cpuset-mems: a list such as "0-1,3" (ranges ascending). */
export function parseCpuset(value: string, flag: string): string {
  const text = value.trim();
  if (listMembers(text) === null) throw invalid(flag, value, 'use a list such as "0-1,3" (ranges low-high, comma separated)');
  return text;
}

/** --pids-limit: a number of processes; 0 or -1 is unlimited. */
export function parsePidsLimit(value: string | number, flag = '--pids-limit'): number {
  const why = 'use a number of processes, or -1 for unlimited';
  const limit = integerIn(value, flag, why);
  if (limit < -1) throw invalid(flag, value, why);
  return limit;
}

/** --blkio-weight: 10..1000, or 0 for the default. */
export function parseBlkioWeight(value: string | number, flag = '--blkio-weight'): number {
  const why = 'use a weight from 10 to 1000, or 0 for the default';
  const weight = integerIn(value, flag, why);
  if (weight !== 0 && (weight < 10 || weight > 1000)) throw invalid(flag, value, why);
  return weight;
}

/** --device-read-bps / --device-write-bps: "/dev/sda:1mb" → {Path: "/dev/sda", Rate: 1048576}. */
export function parseThrottleDevice(value: string, flag: string): ThrottleDevice {
  const at = value.lastIndexOf(':');
  const path = at < 0 ? '' : value.slice(0, at);
  if (!path.startsWith('/dev/') || path.length <= '/dev/'.length) {
    throw invalid(flag, value, 'use DEVICE:RATE with a device path under /dev, such as "/dev/sda:1mb"');
  }
  const rate = bytesIn(value.slice(at + 1));
  if (rate === null) throw invalid(flag, value, 'the rate is a number of bytes per second with an optional unit b, k, m or g, such as "/dev/sda:1mb"');
  return { Path: path, Rate: rate };
}

const given = <T>(v: T | undefined | null): v is T => v !== undefined && v !== null && v !== '';

/** All the resource flags of `run`/`create`/`update` at once, with Docker's cross-flag rules. */
export function parseLimitFlags(flags: LimitFlags): Limits {
  const out: { -readonly [K in keyof Limits]?: Limits[K] } = {};
  const f = flags;
  if (given(f.memory)) out.Memory = parseMemory(f.memory);
  if (given(f['memory-swap'])) {
    const swap = parseMemorySwap(f['memory-swap']);
    if (swap > 0) {
      if (!out.Memory) {
        throw invalid('--memory-swap', f['memory-swap'], 'set --memory too: --memory-swap is memory plus swap');
      }
      if (swap < out.Memory) {
        throw invalid('--memory-swap', f['memory-swap'], `it is memory plus swap, so at least --memory (${formatBytes(out.Memory)}), or -1 for unlimited swap`);
      }
    }
    if (swap !== 0) out.MemorySwap = swap;
  }
  if (given(f['memory-reservation'])) {
    const reservation = parseMemoryReservation(f['memory-reservation']);
    if (out.Memory && reservation > out.Memory) {
      throw invalid('--memory-reservation', f['memory-reservation'], `the soft limit must not exceed --memory (${formatBytes(out.Memory)})`);
    }
    out.MemoryReservation = reservation;
  }

  if (given(f['cpu-max'])) Object.assign(out, parseCpuMax(f['cpu-max']));
  if (given(f['cpu-quota'])) {
    if (given(f['cpu-max'])) throw invalid('--cpu-quota', f['cpu-quota'], '-c already sets the quota; use one of them');
    out.CpuQuota = parseCpuQuota(f['cpu-quota']);
  }
  if (given(f['cpu-period'])) {
    if (given(f['cpu-max'])) throw invalid('--cpu-period', f['cpu-period'], '-c already sets the period; use one of them');
    out.CpuPeriod = parseCpuPeriod(f['cpu-period']);
  }
  if (given(f.cpus)) {
    const nanos = parseCpus(f.cpus);
    if (nanos > 0) {
      if (out.CpuPeriod) {
        throw new Error(`Conflicting options: Nano CPUs and CPU Period cannot both be set (--cpus "${f.cpus}" with a CPU period)`);
      }
      if (out.CpuQuota && out.CpuQuota > 0) {
        throw new Error(`Conflicting options: Nano CPUs and CPU Quota cannot both be set (--cpus "${f.cpus}" with a CPU quota)`);
      }
      out.NanoCpus = nanos;
    }
  }
  if (given(f['cpu-shares'])) out.CpuShares = parseCpuShares(f['cpu-shares']);
  if (given(f['cpuset-cpus'])) out.CpusetCpus = parseCpuset(f['cpuset-cpus'], '--cpuset-cpus');
  if (given(f['cpuset-mems'])) out.CpusetMems = parseCpuset(f['cpuset-mems'], '--cpuset-mems');
  if (given(f['pids-limit'])) out.PidsLimit = parsePidsLimit(f['pids-limit']);
  if (given(f['blkio-weight'])) out.BlkioWeight = parseBlkioWeight(f['blkio-weight']);
  if (f['device-read-bps']?.length) {
    out.BlkioDeviceReadBps = f['device-read-bps'].map((v) => parseThrottleDevice(v, '--device-read-bps'));
  }
  if (f['device-write-bps']?.length) {
    out.BlkioDeviceWriteBps = f['device-write-bps'].map((v) => parseThrottleDevice(v, '--device-write-bps'));
  }
  return out;
}
