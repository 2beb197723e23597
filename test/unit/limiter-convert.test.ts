import assert from 'node:assert/strict';
import { test } from 'node:test';
import { blkioWeightToIoWeight, blockDeviceNumbers, isUnlimitedV1, nanoCpusToQuota, sharesToWeight } from '../../plugins/limiter-cgroups/convert.js';
import { parseKeyValues, parsePids } from '../../plugins/limiter-cgroups/cgroup-files.js';
import { sumV1IoBytes, sumV2IoBytes } from '../../plugins/limiter-cgroups/cgroup-backend.js';
import { parseProcCgroup } from '../../plugins/limiter-cgroups/host.js';
import { cgroupName } from '../../plugins/limiter-cgroups/cgroup-limiter.js';

test('cpu shares → cpu.weight and blkio weight → io.weight, as runc converts them (unit)', () => {
  assert.equal(sharesToWeight(2), 1);
  assert.equal(sharesToWeight(1024), 39);
  assert.equal(sharesToWeight(512), 20);
  assert.equal(sharesToWeight(262144), 10000);
  assert.equal(sharesToWeight(1), 1); // clamped like the kernel
  assert.equal(blkioWeightToIoWeight(10), 1);
  assert.equal(blkioWeightToIoWeight(500), 4950);
  assert.equal(blkioWeightToIoWeight(1000), 10000);
  assert.equal(nanoCpusToQuota(5e8), 50000);
  assert.equal(nanoCpusToQuota(1.5e9), 150000);
  assert.equal(nanoCpusToQuota(1e7), 1000);
});

test('v1 "unlimited" is PAGE_COUNTER_MAX near 2^63 (unit)', () => {
  assert.equal(isUnlimitedV1(9223372036854771712), true);
  assert.equal(isUnlimitedV1(-1), true);
  assert.equal(isUnlimitedV1(33554432), false);
});

test('device numbers come from stat; non-block devices are refused (unit)', () => {
  assert.throws(() => blockDeviceNumbers('/dev/null'), { message: '/dev/null is not a block device' });
  assert.throws(() => blockDeviceNumbers('/dev/no-such-disk'), { message: '/dev/no-such-disk: no such device' });
});

test('/proc/self/cgroup on hybrid and unified hosts (unit)', () => {
  const hybrid = parseProcCgroup('9:name=systemd:/\n4:memory:/process_api/c8a2\n3:cpu,cpuacct:/\n0::/\n');
  assert.equal(hybrid.unified, '/');
  assert.deepEqual(hybrid.v1, [
    { id: 9, controllers: ['name=systemd'], path: '/' },
    { id: 4, controllers: ['memory'], path: '/process_api/c8a2' },
    { id: 3, controllers: ['cpu', 'cpuacct'], path: '/' },
  ]);
  assert.deepEqual(parseProcCgroup('0::/user.slice/user-0.slice/session-1.scope\n'), { unified: '/user.slice/user-0.slice/session-1.scope', v1: [] });
});

test('key-value files, pid lists and I/O byte counters (unit)', () => {
  assert.deepEqual([...parseKeyValues('cache 4096\ntotal_inactive_file 8192\nbogus\n')], [['cache', 4096], ['total_inactive_file', 8192]]);
  assert.deepEqual(parsePids('12\n345\n\n'), [12, 345]);
  assert.deepEqual(sumV1IoBytes('254:0 Read 4096\n254:0 Write 512\n254:0 Sync 4608\n254:0 Total 4608\n8:0 Read 1\nTotal 4609\n'), { read: 4097, write: 512 });
  assert.deepEqual(sumV2IoBytes('254:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n'), { read: 10, write: 20 });
});

test('cgroup names are mini-docker-<container id>; ids with slashes are refused (unit)', () => {
  assert.equal(cgroupName('3f2a9b'), 'mini-docker-3f2a9b');
  assert.throws(() => cgroupName('../x'), /invalid container id/);
});
