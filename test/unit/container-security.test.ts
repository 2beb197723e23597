// Unit: a container's tmpfs mounts, devices and device cgroup rules from its HostConfig, the CLI
// flags that make them, and the shim spec lines they become.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBody, deviceFlag, parseMountFlag, tmpfsFlags, type CreateFlagValues } from '../../cli/lib/create-body.js';
import { capabilityHostFrom } from '../../core/security/capabilities.js';
import {
  DEFAULT_DEVICE_RULES, checkSecurity, deviceAccess, execSecurity, mergeTmpfsOptions, parseDeviceFlag, resolveDevice, startSecurity, tmpfsMounts,
} from '../../core/security/container-security.js';
import { serializeSpec } from '../../plugins/isolator-namespaces/shim-protocol.js';

const host = capabilityHostFrom('40', 'CapEff:\t000001fffeffffff\nCapBnd:\t000001fffeffffff\n');

describe('container security: tmpfs', () => {
  it('puts Docker\'s noexec,nosuid,nodev first; a later option replaces its opposite or its key', () => {
    assert.equal(mergeTmpfsOptions([]), 'noexec,nosuid,nodev');
    assert.equal(mergeTmpfsOptions(['exec', 'size=64m', 'mode=1777', 'size=1m']), 'nosuid,nodev,exec,mode=1777,size=1m');
    assert.throws(() => mergeTmpfsOptions(['bogus']), { message: 'invalid tmpfs option ["bogus"]' });
    assert.throws(() => mergeTmpfsOptions(['foo=bar']), { message: 'invalid tmpfs option ["foo" "bar"]' });
  });

  it('reads --tmpfs and --mount type=tmpfs, refusing relative paths, a Source and duplicates', () => {
    const mounts = tmpfsMounts({
      Tmpfs: { '/run/': 'size=1m', '/tmp': '' },
      Mounts: [{ Type: 'tmpfs', Source: '', Target: '/data', ReadOnly: true, TmpfsOptions: { SizeBytes: 2097152, Mode: 0o1770 } }, { Type: 'bind', Source: '/x', Target: '/x', ReadOnly: false }],
    });
    assert.deepEqual(mounts, [
      { target: '/run', options: 'noexec,nosuid,nodev,size=1m' },
      { target: '/tmp', options: 'noexec,nosuid,nodev' },
      { target: '/data', options: 'noexec,nosuid,nodev,size=2097152,mode=1770,ro' },
    ]);
    assert.throws(() => tmpfsMounts({ Tmpfs: { tmp: '' } }), { message: "invalid mount path: 'tmp' mount path must be absolute" });
    assert.throws(() => tmpfsMounts({ Mounts: [{ Type: 'tmpfs', Source: '', Target: 'x', ReadOnly: false }] }), { message: 'invalid mount config for type "tmpfs": invalid mount path: \'x\' mount path must be absolute' });
    assert.throws(() => tmpfsMounts({ Tmpfs: { '/': '' } }), /'\/' cannot be a tmpfs/);
    assert.throws(() => tmpfsMounts({ Mounts: [{ Type: 'tmpfs', Source: '/host', Target: '/t', ReadOnly: false }] }), /field Source must not be specified/);
    assert.throws(() => tmpfsMounts({ Tmpfs: { '/t': '' }, Mounts: [{ Type: 'tmpfs', Source: '', Target: '/t/', ReadOnly: false }] }), { message: 'Duplicate mount point: /t' });
  });
});

describe('container security: devices', () => {
  it('parses --device as the docker CLI', () => {
    assert.deepEqual(parseDeviceFlag('/dev/null'), { PathOnHost: '/dev/null', PathInContainer: '/dev/null', CgroupPermissions: 'rwm' });
    assert.deepEqual(parseDeviceFlag('/dev/null:/dev/mynull'), { PathOnHost: '/dev/null', PathInContainer: '/dev/mynull', CgroupPermissions: 'rwm' });
    assert.deepEqual(parseDeviceFlag('/dev/null:r'), { PathOnHost: '/dev/null', PathInContainer: '/dev/null', CgroupPermissions: 'r' });
    assert.deepEqual(parseDeviceFlag('/dev/null:/dev/x:rw'), { PathOnHost: '/dev/null', PathInContainer: '/dev/x', CgroupPermissions: 'rw' });
    assert.throws(() => parseDeviceFlag('/dev/null:dev/x'), { message: 'dev/x is not an absolute path' });
    assert.throws(() => parseDeviceFlag('/dev/null:/dev/x:rwx'), { message: 'bad mode specified: rwx' });
    assert.throws(() => parseDeviceFlag('/a:/b:r:w'), /invalid device specification/);
  });

  it('resolves a host device\'s numbers, and says which device is missing', () => {
    const [node] = resolveDevice({ PathOnHost: '/dev/null', PathInContainer: '/dev/mynull', CgroupPermissions: 'rw' });
    assert.deepEqual({ ...node, mode: undefined, uid: undefined, gid: undefined }, { path: '/dev/mynull', type: 'c', major: 1, minor: 3, permissions: 'rw', mode: undefined, uid: undefined, gid: undefined });
    assert.throws(() => resolveDevice({ PathOnHost: '/dev/no-such-device', PathInContainer: '/dev/x', CgroupPermissions: 'rwm' }),
      { message: 'error gathering device information while adding custom device "/dev/no-such-device": no such file or directory' });
    assert.throws(() => resolveDevice({ PathOnHost: '/etc/hostname', PathInContainer: '/dev/x', CgroupPermissions: 'rwm' }), /not a device node/);
  });

  it('gives the device cgroup Docker\'s defaults and each device; privileged opens every device', () => {
    const start = startSecurity({ Devices: [{ PathOnHost: '/dev/zero', PathInContainer: '/dev/z', CgroupPermissions: 'r' }] }, host);
    assert.deepEqual(deviceAccess(start), { allow: [...DEFAULT_DEVICE_RULES, { type: 'c', major: 1, minor: 5, access: 'r' }] });
    const privileged = startSecurity({ Privileged: true }, host);
    assert.equal(deviceAccess(privileged), 'all');
    assert.ok(privileged.devices.some((d) => d.path === '/dev/null' && d.major === 1 && d.minor === 3), 'every host device is made in /dev');
    assert.ok(!privileged.devices.some((d) => d.path.startsWith('/dev/pts/')), 'not the host\'s ptys');
    assert.equal(privileged.capabilities.length, 40);
    assert.deepEqual(execSecurity({ CapDrop: ['ALL'] }, host), { capabilities: [], privileged: false });
  });
});

describe('container security: create checks', () => {
  it('normalizes the capability lists and refuses what cannot work, one line each', () => {
    assert.deepEqual(checkSecurity({ CapAdd: ['net_admin'], CapDrop: ['all'] }, host), { capAdd: ['CAP_NET_ADMIN'], capDrop: ['ALL'] });
    assert.throws(() => checkSecurity({ CapAdd: ['nope'] }, host), { message: 'invalid CapAdd: unknown capability: "CAP_NOPE"' });
    assert.throws(() => checkSecurity({ Tmpfs: { '/t': 'uid=0,bad' } }, host), { message: 'invalid tmpfs option ["bad"]' });
    assert.throws(() => checkSecurity({ Devices: [{ PathOnHost: '/dev/null', PathInContainer: 'x', CgroupPermissions: 'rwm' }] }, host), { message: 'x is not an absolute path' });
  });
});

describe('cli: security flags', () => {
  const base: CreateFlagValues = { interactive: false, tty: false, rm: false };
  it('sends CapAdd, CapDrop, Privileged, ReadonlyRootfs, Tmpfs and Devices', () => {
    const body = createBody({
      image: 'busybox', cmd: [], detach: true, consoleSize: [24, 80], exitCode: 125,
      flags: { ...base, 'cap-add': ['NET_ADMIN'], 'cap-drop': ['ALL'], privileged: true, 'read-only': true, tmpfs: ['/tmp', '/run:size=1m,exec'], device: ['/dev/null:/dev/n:r'] },
    });
    assert.deepEqual(body.HostConfig.CapAdd, ['NET_ADMIN']);
    assert.deepEqual(body.HostConfig.CapDrop, ['ALL']);
    assert.equal(body.HostConfig.Privileged, true);
    assert.equal(body.HostConfig.ReadonlyRootfs, true);
    assert.deepEqual(body.HostConfig.Tmpfs, { '/tmp': '', '/run': 'size=1m,exec' });
    assert.deepEqual(body.HostConfig.Devices, [{ PathOnHost: '/dev/null', PathInContainer: '/dev/n', CgroupPermissions: 'r' }]);
  });

  it('sends --tmpfs as given (the daemon checks it) and refuses a bad --device in one line', () => {
    assert.deepEqual(tmpfsFlags(['tmp', '/a:size=1m:x']), { tmp: '', '/a': 'size=1m:x' });
    assert.throws(() => deviceFlag('/dev/null:/x:q', 125), { message: 'invalid argument "/dev/null:/x:q" for "--device" flag: bad mode specified: q' });
  });

  it('reads --mount type=tmpfs with tmpfs-size and tmpfs-mode', () => {
    assert.deepEqual(parseMountFlag('type=tmpfs,dst=/data,tmpfs-size=64m,tmpfs-mode=1770', '/', 125),
      { Type: 'tmpfs', Source: '', Target: '/data', ReadOnly: false, TmpfsOptions: { SizeBytes: 64 * 1024 * 1024, Mode: 0o1770 } });
    assert.throws(() => parseMountFlag('type=bind,src=/a,dst=/b,tmpfs-size=1m', '/', 125), /cannot mix 'tmpfs-\*' options with mount type 'bind'/);
    assert.throws(() => parseMountFlag('type=tmpfs,dst=/b,tmpfs-mode=999', '/', 125), /invalid value for tmpfs-mode/);
  });
});

describe('shim spec: security lines', () => {
  it('writes caps, privileged, readonly-rootfs, tmpfs, device, device-rule and the seccomp cache key', () => {
    const text = serializeSpec({
      id: 'x', rootfs: '/r', args: ['sh'], capabilities: ['CAP_CHOWN', 'CAP_NET_ADMIN'], privileged: true, readonlyRootfs: true,
      tmpfs: [{ target: '/my dir', options: 'noexec,size=1m' }], devices: [{ path: '/dev/n', type: 'c', major: 1, minor: 3, mode: 0o666, uid: 0, gid: 5 }],
      seccomp: { defaultAction: { kind: 'errno', errno: 1 }, rules: [] }, seccompCacheDir: '/run/x/seccomp-cache',
      deviceRules: [{ type: 'c', major: '*', minor: '*', access: 'm' }, { type: 'c', major: 136, minor: '*', access: 'rwm' }],
    });
    const lines = text.split('\n');
    for (const l of ['caps 1001', 'privileged 1', 'readonly-rootfs 1', 'tmpfs /my\\sdir noexec,size=1m', 'device /dev/n c 1 3 666 0 5', 'seccomp errno 1', 'device-rule c * * m', 'device-rule c 136 * rwm']) assert.ok(lines.includes(l), `${l} in\n${text}`);
    assert.match(text, /^seccomp-cache \/run\/x\/seccomp-cache [0-9a-f]{64}$/m);
    const other = serializeSpec({ id: 'x', rootfs: '/r', args: ['sh'], seccomp: { defaultAction: { kind: 'errno', errno: 38 }, rules: [] }, seccompCacheDir: '/run/x/seccomp-cache' });
    assert.notEqual(/seccomp-cache \S+ (\S+)/.exec(text)?.[1], /seccomp-cache \S+ (\S+)/.exec(other)?.[1], 'another filter, another key');
    assert.doesNotMatch(serializeSpec({ id: 'x', rootfs: '/r', args: ['sh'], seccomp: { defaultAction: { kind: 'errno', errno: 1 }, rules: [] }, seccompCacheDir: '/a b' }), /seccomp-cache/);
  });

  it('no-new-privs only when asked (--security-opt no-new-privileges), in run and exec specs', () => {
    assert.doesNotMatch(serializeSpec({ id: 'x', rootfs: '/r', args: ['sh'] }), /no-new-privs/);
    assert.doesNotMatch(serializeSpec({ id: 'x', rootfs: '/r', args: ['sh'], noNewPrivileges: false }), /no-new-privs/);
    assert.match(serializeSpec({ id: 'x', rootfs: '/r', args: ['sh'], noNewPrivileges: true }), /^no-new-privs 1$/m);
    assert.match(serializeSpec({ pid: 42, args: ['sh'], noNewPrivileges: true }), /^no-new-privs 1$/m);
  });
});
