import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkLimits } from '../../core/limits/index.js';

const MiB = 1024 * 1024;

test('checkLimits accepts empty, partial and typical limits (unit)', () => {
  checkLimits({});
  checkLimits({ PidsLimit: 20 });
  checkLimits({ Memory: 64 * MiB, MemorySwap: -1, NanoCpus: 5e8, CpuShares: 512, CpusetCpus: '0', BlkioWeight: 500 });
  checkLimits({ Memory: 64 * MiB, MemorySwap: 128 * MiB, MemoryReservation: 32 * MiB, CpuQuota: 10000, CpuPeriod: 100000 });
  checkLimits({ CpuQuota: -1, PidsLimit: -1, Memory: 0, NanoCpus: 0 });
});

test("checkLimits refuses what Docker's daemon refuses, with Docker's messages (unit)", () => {
  const cases: [Parameters<typeof checkLimits>[0], string | RegExp][] = [
    [{ Memory: 1024 }, 'Minimum memory limit allowed is 6MB'],
    [{ Memory: -5 }, 'Minimum memory limit allowed is 6MB'],
    [{ MemoryReservation: 1024 }, 'Minimum memory reservation allowed is 6MB'],
    [{ MemorySwap: 128 * MiB }, 'You should always set the Memory limit when using Memoryswap limit, see usage'],
    [{ Memory: 128 * MiB, MemorySwap: 64 * MiB }, 'Minimum memoryswap limit should be larger than memory limit, see usage'],
    [{ Memory: 64 * MiB, MemoryReservation: 128 * MiB }, 'Minimum memory limit can not be less than memory reservation limit, see usage'],
    [{ NanoCpus: 5e8, CpuPeriod: 100000 }, 'Conflicting options: Nano CPUs and CPU Period cannot both be set'],
    [{ NanoCpus: 5e8, CpuQuota: 50000 }, 'Conflicting options: Nano CPUs and CPU Quota cannot both be set'],
    [{ NanoCpus: 1000 }, /Range of CPUs is from 0.01/],
    [{ CpuPeriod: 10 }, 'CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)'],
    [{ CpuPeriod: 2_000_000 }, /CPU cfs period/],
    [{ CpuQuota: 500 }, 'CPU cfs quota can not be less than 1ms (i.e. 1000)'],
    [{ CpuShares: -1 }, /invalid CpuShares -1/],
    [{ CpusetCpus: '1-0' }, 'invalid value 1-0 for cpuset cpus'],
    [{ CpusetMems: 'x' }, 'invalid value x for cpuset mems'],
    [{ PidsLimit: -7 }, /invalid PidsLimit -7/],
    [{ BlkioWeight: 5 }, 'Range of blkio weight is from 10 to 1000'],
    [{ BlkioDeviceReadBps: [{ Path: 'sda', Rate: 1 }] }, /bad format for device path: sda/],
    [{ BlkioDeviceWriteBps: [{ Path: '/dev/sda', Rate: -1 }] }, /invalid rate for device/],
    [{ Memory: 1.5 * MiB * 10 + 0.5 }, /a whole number is needed/],
  ];
  for (const [limits, message] of cases) {
    assert.throws(() => checkLimits(limits), typeof message === 'string' ? { message } : message, JSON.stringify(limits));
  }
});
