import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  bytesIn, formatBytes, listMembers, missingMembers, parseBlkioWeight, parseBytes, parseCpuMax, parseCpuPeriod,
  parseCpuQuota, parseCpus, parseCpuset, parseCpuShares, parseLimitFlags, parseMemory, parseMemorySwap,
  parsePidsLimit, parseThrottleDevice,
} from '../../core/limits/index.js';

const MiB = 1024 * 1024;

describe('byte sizes (unit)', () => {
  test('units are binary, case-insensitive, with optional b/ib and fractions', () => {
    assert.equal(parseBytes('2000m', '--memory'), 2000 * MiB);
    assert.equal(parseBytes('0.5g', '--memory'), 512 * MiB);
    assert.equal(parseBytes('128M', '--memory'), 128 * MiB);
    assert.equal(parseBytes('1024k', '--memory'), MiB);
    assert.equal(parseBytes('512b', '--memory'), 512);
    assert.equal(parseBytes('4096', '--memory'), 4096);
    assert.equal(parseBytes('1kb', '--memory'), 1024);
    assert.equal(parseBytes('1GiB', '--memory'), 1024 * MiB);
    assert.equal(parseBytes('1.5k', '--memory'), 1536);
    assert.equal(bytesIn('-1'), null);
    assert.equal(bytesIn(''), null);
  });

  test('a bad size names the flag and the value', () => {
    assert.throws(() => parseBytes('12q', '--memory'), {
      message: 'invalid value "12q" for --memory: use a number with an optional unit b, k, m or g',
    });
    for (const bad of ['m', '1.2.3m', '1 2', 'ten', '0x10']) assert.throws(() => parseBytes(bad, '--memory'), /invalid value/);
  });

  test('formatBytes prints like docker (binary units, 4 significant digits)', () => {
    assert.equal(formatBytes(0), '0B');
    assert.equal(formatBytes(512), '512B');
    assert.equal(formatBytes(32 * MiB), '32MiB');
    assert.equal(formatBytes(1500), '1.465KiB');
    assert.equal(formatBytes(2000 * MiB), '1.953GiB');
  });
});

describe('memory flags (unit)', () => {
  test('--memory: Docker minimum 6m, 0 is unlimited', () => {
    assert.equal(parseMemory('6m'), 6 * MiB);
    assert.equal(parseMemory('0'), 0);
    assert.throws(() => parseMemory('5m'), { message: 'invalid value "5m" for --memory: the minimum is 6m (6291456 bytes)' });
    assert.throws(() => parseMemory('512b'), /minimum is 6m/);
  });

  test('--memory-swap: -1 or a size', () => {
    assert.equal(parseMemorySwap('-1'), -1);
    assert.equal(parseMemorySwap('1g'), 1024 * MiB);
    assert.throws(() => parseMemorySwap('-2'), /invalid value "-2" for --memory-swap: use -1/);
  });

  test('--memory-swap must be at least --memory and needs it', () => {
    assert.deepEqual(parseLimitFlags({ memory: '128m', 'memory-swap': '256m' }), { Memory: 128 * MiB, MemorySwap: 256 * MiB });
    assert.deepEqual(parseLimitFlags({ memory: '128m', 'memory-swap': '-1' }), { Memory: 128 * MiB, MemorySwap: -1 });
    assert.throws(() => parseLimitFlags({ memory: '128m', 'memory-swap': '64m' }), {
      message: 'invalid value "64m" for --memory-swap: it is memory plus swap, so at least --memory (128MiB), or -1 for unlimited swap',
    });
    assert.throws(() => parseLimitFlags({ 'memory-swap': '64m' }), /invalid value "64m" for --memory-swap: set --memory too/);
  });

  test('--memory-reservation: at least 6m, at most --memory', () => {
    assert.deepEqual(parseLimitFlags({ memory: '128m', 'memory-reservation': '64m' }), { Memory: 128 * MiB, MemoryReservation: 64 * MiB });
    assert.throws(() => parseLimitFlags({ memory: '64m', 'memory-reservation': '128m' }), /for --memory-reservation: the soft limit must not exceed --memory \(64MiB\)/);
    assert.throws(() => parseLimitFlags({ 'memory-reservation': '1m' }), /for --memory-reservation: the minimum is 6m/);
  });
});

describe('cpu flags (unit)', () => {
  test("-c takes cgroup v2's cpu.max form", () => {
    assert.deepEqual(parseCpuMax('10000 100000'), { CpuQuota: 10000, CpuPeriod: 100000 });
    assert.deepEqual(parseCpuMax('max 100000'), { CpuQuota: -1, CpuPeriod: 100000 });
    assert.deepEqual(parseCpuMax(' 50000   200000 '), { CpuQuota: 50000, CpuPeriod: 200000 });
    assert.deepEqual(parseCpuMax('20000'), { CpuQuota: 20000, CpuPeriod: 100000 });
    assert.throws(() => parseCpuMax('10 100000'), /invalid value "10 100000" for -c: the quota must be "max" or at least 1000/);
    assert.throws(() => parseCpuMax('10000 10'), /for -c: the period must be from 1000 to 1000000/);
    assert.throws(() => parseCpuMax('1 2 3'), /invalid value "1 2 3" for -c/);
    assert.throws(() => parseCpuMax(''), /for -c/);
    assert.throws(() => parseCpuMax('half 100000'), /for -c/);
    assert.deepEqual(parseLimitFlags({ 'cpu-max': '10000 100000' }), { CpuQuota: 10000, CpuPeriod: 100000 });
  });

  test('--cpus becomes nano CPUs, at least 0.01, at most 9 decimals', () => {
    assert.equal(parseCpus('0.5'), 500_000_000);
    assert.equal(parseCpus('2'), 2_000_000_000);
    assert.equal(parseCpus(1.25), 1_250_000_000);
    assert.equal(parseCpus('.5'), 500_000_000);
    assert.throws(() => parseCpus('0'), { message: 'invalid value "0" for --cpus: the minimum is 0.01 CPUs (leave the flag out for no limit)' });
    assert.throws(() => parseCpus('0.00'), /the minimum is 0.01 CPUs/);
    assert.throws(() => parseCpus('0.000000001'), /the minimum is 0.01 CPUs/);
    assert.throws(() => parseCpus('0.0000000001'), /too precise/);
    assert.throws(() => parseCpus('0.001'), { message: 'invalid value "0.001" for --cpus: the minimum is 0.01 CPUs' });
    assert.throws(() => parseCpus('-1'), /invalid value "-1" for --cpus/);
    assert.throws(() => parseCpus('one'), /invalid value "one" for --cpus/);
  });

  test('--cpus cannot be combined with a period or a quota (Docker\'s message)', () => {
    assert.deepEqual(parseLimitFlags({ cpus: '0.5' }), { NanoCpus: 500_000_000 });
    assert.throws(() => parseLimitFlags({ cpus: '0.5', 'cpu-period': '100000' }), /^Error: Conflicting options: Nano CPUs and CPU Period cannot both be set/);
    assert.throws(() => parseLimitFlags({ cpus: '0.5', 'cpu-quota': '50000' }), /Conflicting options: Nano CPUs and CPU Quota cannot both be set/);
    assert.throws(() => parseLimitFlags({ cpus: '1', 'cpu-max': '10000 100000' }), /Conflicting options: Nano CPUs and CPU Period/);
    assert.throws(() => parseLimitFlags({ 'cpu-max': '10000 100000', 'cpu-quota': '20000' }), /for --cpu-quota: -c already sets the quota/);
  });

  test('--cpu-quota, --cpu-period, --cpu-shares ranges', () => {
    assert.equal(parseCpuQuota('-1'), -1);
    assert.equal(parseCpuQuota(50000), 50000);
    assert.throws(() => parseCpuQuota('999'), /invalid value "999" for --cpu-quota/);
    assert.throws(() => parseCpuQuota('1.5'), /for --cpu-quota/);
    assert.equal(parseCpuPeriod('1000'), 1000);
    assert.equal(parseCpuPeriod('1000000'), 1_000_000);
    assert.throws(() => parseCpuPeriod('999'), { message: 'invalid value "999" for --cpu-period: use microseconds from 1000 to 1000000' });
    assert.throws(() => parseCpuPeriod('1000001'), /for --cpu-period/);
    assert.equal(parseCpuShares('512'), 512);
    assert.equal(parseCpuShares(0), 0);
    assert.throws(() => parseCpuShares('1'), /invalid value "1" for --cpu-shares/);
    assert.throws(() => parseCpuShares('300000'), /for --cpu-shares/);
    assert.deepEqual(parseLimitFlags({ 'cpu-quota': 50000, 'cpu-period': '200000', 'cpu-shares': 512 }), { CpuQuota: 50000, CpuPeriod: 200000, CpuShares: 512 });
  });

  test('--cpuset-cpus and --cpuset-mems syntax', () => {
    assert.equal(parseCpuset('0-1,3', '--cpuset-cpus'), '0-1,3');
    assert.equal(parseCpuset('0', '--cpuset-mems'), '0');
    for (const bad of ['1-0', 'a', '0,', '0-', '-1', '0 1', '0;1']) {
      assert.throws(() => parseCpuset(bad, '--cpuset-cpus'), new RegExp(`invalid value "${bad}" for --cpuset-cpus`));
    }
    assert.deepEqual(listMembers('0-2,5,1'), [0, 1, 2, 5]);
    assert.deepEqual(missingMembers('0-3', '0-1'), [2, 3]);
    assert.deepEqual(parseLimitFlags({ 'cpuset-cpus': '0-1', 'cpuset-mems': '0' }), { CpusetCpus: '0-1', CpusetMems: '0' });
  });
});

describe('pids and block I/O flags (unit)', () => {
  test('--pids-limit: -1 and 0 are unlimited', () => {
    assert.equal(parsePidsLimit('20'), 20);
    assert.equal(parsePidsLimit('-1'), -1);
    assert.equal(parsePidsLimit(0), 0);
    assert.throws(() => parsePidsLimit('-2'), /invalid value "-2" for --pids-limit/);
    assert.throws(() => parsePidsLimit('lots'), /invalid value "lots" for --pids-limit/);
  });

  test('--blkio-weight: 10..1000 or 0', () => {
    assert.equal(parseBlkioWeight('10'), 10);
    assert.equal(parseBlkioWeight('1000'), 1000);
    assert.equal(parseBlkioWeight('0'), 0);
    assert.throws(() => parseBlkioWeight('5'), { message: 'invalid value "5" for --blkio-weight: use a weight from 10 to 1000, or 0 for the default' });
    assert.throws(() => parseBlkioWeight('1001'), /for --blkio-weight/);
  });

  test('--device-read-bps / --device-write-bps: DEVICE:RATE', () => {
    assert.deepEqual(parseThrottleDevice('/dev/sda:1mb', '--device-read-bps'), { Path: '/dev/sda', Rate: MiB });
    assert.deepEqual(parseThrottleDevice('/dev/disk/by-id/x:y:512k', '--device-read-bps'), { Path: '/dev/disk/by-id/x:y', Rate: 512 * 1024 });
    assert.throws(() => parseThrottleDevice('sda:1mb', '--device-read-bps'), /invalid value "sda:1mb" for --device-read-bps: use DEVICE:RATE/);
    assert.throws(() => parseThrottleDevice('/dev/sda', '--device-write-bps'), /invalid value "\/dev\/sda" for --device-write-bps/);
    assert.throws(() => parseThrottleDevice('/dev/sda:fast', '--device-write-bps'), /for --device-write-bps: the rate is a number of bytes/);
    assert.deepEqual(parseLimitFlags({ 'device-read-bps': ['/dev/sda:1mb'], 'device-write-bps': ['/dev/sdb:2m', '/dev/sdc:1k'] }), {
      BlkioDeviceReadBps: [{ Path: '/dev/sda', Rate: MiB }],
      BlkioDeviceWriteBps: [{ Path: '/dev/sdb', Rate: 2 * MiB }, { Path: '/dev/sdc', Rate: 1024 }],
    });
  });
});

describe('parseLimitFlags (unit)', () => {
  test('no flags, no limits; empty values are not set', () => {
    assert.deepEqual(parseLimitFlags({}), {});
    assert.deepEqual(parseLimitFlags({ memory: '', 'cpuset-cpus': '', 'device-read-bps': [] }), {});
  });

  test("the original project's example: -m 2000m -c '10000 100000'", () => {
    assert.deepEqual(parseLimitFlags({ memory: '2000m', 'cpu-max': '10000 100000' }), {
      Memory: 2000 * MiB, CpuQuota: 10000, CpuPeriod: 100000,
    });
  });

  test('every flag at once', () => {
    assert.deepEqual(parseLimitFlags({
      memory: '256m', 'memory-swap': '512m', 'memory-reservation': '128m', cpus: '1.5', 'cpu-shares': '512',
      'cpuset-cpus': '0-1', 'cpuset-mems': '0', 'pids-limit': '100', 'blkio-weight': '300', 'device-read-bps': ['/dev/vda:10mb'],
    }), {
      Memory: 256 * MiB, MemorySwap: 512 * MiB, MemoryReservation: 128 * MiB, NanoCpus: 1_500_000_000, CpuShares: 512,
      CpusetCpus: '0-1', CpusetMems: '0', PidsLimit: 100, BlkioWeight: 300, BlkioDeviceReadBps: [{ Path: '/dev/vda', Rate: 10 * MiB }],
    });
  });

  test('every message is one line', () => {
    const bad = [{ memory: '12q' }, { cpus: 'x' }, { 'cpu-max': 'a b' }, { 'pids-limit': '-9' }, { 'device-read-bps': ['nope'] }];
    for (const flags of bad) {
      assert.throws(() => parseLimitFlags(flags), (e: unknown) => e instanceof Error && !e.message.includes('\n'));
    }
  });
});
