/**
 * The host-independent rules Docker's daemon applies to a HostConfig's resources
 * (daemon_unix.go verifyPlatformContainerResources), with Docker's messages, so a client that
 * sends HostConfig directly (dockerode, the docker CLI) gets the same answers. Host facts
 * (CPUs present, swap accounting, ...) are the limiter driver's part of `validate`.
 */
import type { Limits, ThrottleDevice } from '../../events/index.js';
import { listMembers } from './cpuset.js';
import {
  MAX_CPU_PERIOD, MAX_CPU_SHARES, MIN_CPU_PERIOD, MIN_CPU_QUOTA, MIN_MEMORY,
} from './parse-limits.js';

const set = (n: number | undefined): n is number => n !== undefined && n !== 0;

function checkWhole(name: string, value: number | undefined): void {
  if (value !== undefined && !Number.isSafeInteger(value)) throw new Error(`invalid ${name} ${value}: a whole number is needed`);
}

function checkDevices(name: string, devices: readonly ThrottleDevice[] | undefined): void {
  for (const d of devices ?? []) {
    if (!d.Path.startsWith('/dev/')) throw new Error(`bad format for device path: ${d.Path} (${name})`);
    if (!Number.isSafeInteger(d.Rate) || d.Rate < 0) throw new Error(`invalid rate for device: ${d.Path}:${d.Rate} (${name})`);
  }
}

/** Throws Docker's one-line message for the first rule `limits` breaks. Partial limits (update) are fine. */
export function checkLimits(limits: Limits): void {
  const l = limits;
  for (const key of ['Memory', 'MemorySwap', 'MemoryReservation', 'NanoCpus', 'CpuQuota', 'CpuPeriod', 'CpuShares', 'PidsLimit', 'BlkioWeight'] as const) {
    checkWhole(key, l[key]);
  }
  // -1 lifts a memory limit on update (like MemorySwap -1 and CpuQuota -1).
  if (l.Memory !== undefined && (l.Memory < -1 || (l.Memory > 0 && l.Memory < MIN_MEMORY))) {
    throw new Error('Minimum memory limit allowed is 6MB');
  }
  if (l.MemoryReservation !== undefined && (l.MemoryReservation < 0 || (l.MemoryReservation > 0 && l.MemoryReservation < MIN_MEMORY))) {
    throw new Error('Minimum memory reservation allowed is 6MB');
  }
  if (l.MemorySwap !== undefined && l.MemorySwap < -1) throw new Error(`invalid MemorySwap ${l.MemorySwap}: use -1 for unlimited swap`);
  if (set(l.MemorySwap) && l.MemorySwap > 0) {
    if (!set(l.Memory)) throw new Error('You should always set the Memory limit when using Memoryswap limit, see usage');
    if (l.MemorySwap < l.Memory) throw new Error('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (set(l.Memory) && set(l.MemoryReservation) && l.Memory < l.MemoryReservation) {
    throw new Error('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  if (l.NanoCpus !== undefined && l.NanoCpus < 0) throw new Error('Range of CPUs is from 0.01 to the number of CPUs available');
  if (set(l.NanoCpus) && l.NanoCpus < 1e7) throw new Error('Range of CPUs is from 0.01 to the number of CPUs available');
  if (set(l.NanoCpus) && set(l.CpuPeriod)) throw new Error('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (set(l.NanoCpus) && l.CpuQuota !== undefined && l.CpuQuota > 0) {
    throw new Error('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  }
  if (set(l.CpuPeriod) && (l.CpuPeriod < MIN_CPU_PERIOD || l.CpuPeriod > MAX_CPU_PERIOD)) {
    throw new Error('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  }
  if (l.CpuQuota !== undefined && (l.CpuQuota < -1 || (l.CpuQuota > 0 && l.CpuQuota < MIN_CPU_QUOTA))) {
    throw new Error('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  }
  if (l.CpuShares !== undefined && (l.CpuShares < 0 || l.CpuShares > MAX_CPU_SHARES)) {
    throw new Error(`invalid CpuShares ${l.CpuShares}: use a relative weight from 2 to ${MAX_CPU_SHARES}`);
  }
  if (l.CpusetCpus !== undefined && listMembers(l.CpusetCpus) === null) throw new Error(`invalid value ${l.CpusetCpus} for cpuset cpus`);
  if (l.CpusetMems !== undefined && listMembers(l.CpusetMems) === null) throw new Error(`invalid value ${l.CpusetMems} for cpuset mems`);
  if (l.PidsLimit !== undefined && l.PidsLimit < -1) throw new Error(`invalid PidsLimit ${l.PidsLimit}: use -1 or 0 for unlimited`);
  if (set(l.BlkioWeight) && (l.BlkioWeight < 10 || l.BlkioWeight > 1000)) throw new Error('Range of blkio weight is from 10 to 1000');
  checkDevices('BlkioDeviceReadBps', l.BlkioDeviceReadBps);
  checkDevices('BlkioDeviceWriteBps', l.BlkioDeviceWriteBps);
}
