// End to end: the probe of the issue "Security" inside containers of a real daemon, by the CLI and
// by the docker client: a default container as Docker's (seccomp on, no new namespaces, no kernel
// log, no mount, masked and read-only paths, CapEff a80425fb, Docker's device cgroup), the
// opposite with --privileged (as far as the daemon's own capabilities go), and --cap-add,
// --cap-drop, --read-only with --tmpfs, --mount type=tmpfs and --device.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DOCKER_CLIENT_MISSING, REPO_ROOT, TestDaemon, runCommand } from './harness.js';

/** One line per check: what the process inside may do and what it sees. */
const PROBE = [
  'grep "^Seccomp:" /proc/self/status | tr -d "\\t "',
  'grep "^CapEff:" /proc/self/status | tr -d "\\t "',
  'unshare -U true 2>/dev/null && echo unshare-U=ok || echo unshare-U=denied',
  'unshare -m true 2>/dev/null && echo unshare-m=ok || echo unshare-m=denied',
  'dmesg >/dev/null 2>&1 && echo dmesg=ok || echo dmesg=denied',
  'mkdir -p /mnt && mount -t tmpfs probe /mnt 2>/dev/null && umount /mnt && echo mount=ok || echo mount=denied',
  'if [ -e /proc/kcore ]; then [ -c /proc/kcore ] && echo kcore=masked || echo kcore=visible; else echo kcore=absent; fi',
  '[ -c /proc/keys ] && echo keys=masked || echo keys=visible',
  '[ -z "$(ls -A /sys/firmware 2>/dev/null)" ] && echo firmware=empty || echo firmware=visible',
  // hostname is the container's own (UTS namespace): writing it back changes nothing on the host.
  '(cat /proc/sys/kernel/hostname > /proc/sys/kernel/hostname) 2>/dev/null && echo proc-sys=rw || echo proc-sys=ro',
  'awk \'$2=="/sys" { split($4, o, ","); print "sys=" o[1] }\' /proc/mounts',
  'awk \'$2=="/sys/fs/cgroup" { split($4, o, ","); print "cgroupfs=" o[1] }\' /proc/mounts',
].join('; ');

function probeOf(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.trim().split('\n')) {
    const m = /^([\w-]+)[:=](.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** The daemon's own capabilities (bounding & effective): what a privileged container gets. */
function heldBy(pid: number): string {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): bigint => BigInt(`0x${new RegExp(`^${name}:\\s*([0-9a-f]+)$`, 'm').exec(status)![1]!}`);
  return (field('CapBnd') & field('CapEff')).toString(16).padStart(16, '0');
}

/** A character device of the host outside Docker's default set, to see that a privileged container has every one. */
function hostOnlyDevice(): string | undefined {
  return readdirSync('/dev').find((name) => {
    if (['null', 'zero', 'full', 'random', 'urandom', 'tty', 'console', 'ptmx'].includes(name)) return false;
    try {
      return statSync(`/dev/${name}`).isCharacterDevice();
    } catch {
      return false;
    }
  });
}

/** The container's devices cgroup as it sees it, where the host has a v1 devices hierarchy (else ""). */
const DEVICES_LIST = 'cat /sys/fs/cgroup/devices/devices.list 2>/dev/null | head -1';

describe('e2e: capabilities, privileged, read-only, tmpfs and devices', { timeout: 300_000 }, () => {
  const d = new TestDaemon('privileges');
  before(() => d.start());
  after(() => d.cleanup());

  it('a default container: seccomp on, no namespaces, no kernel log, no mount, masked and read-only paths, CapEff a80425fb', async () => {
    const r = await d.cli(['run', '--rm', 'busybox', 'sh', '-c', PROBE]);
    assert.equal(r.code, 0, r.stderr);
    const p = probeOf(r.stdout);
    assert.deepEqual({ ...p, kcore: undefined }, {
      Seccomp: '2', CapEff: '00000000a80425fb', 'unshare-U': 'denied', 'unshare-m': 'denied', dmesg: 'denied', mount: 'denied',
      kcore: undefined, keys: 'masked', firmware: 'empty', 'proc-sys': 'ro', sys: 'ro', cgroupfs: p.cgroupfs,
    }, r.stdout);
    if (p.cgroupfs !== undefined) assert.equal(p.cgroupfs, 'ro', 'its cgroups are shown read-only');
    assert.match(p.kcore!, /^(masked|absent)$/, 'this kernel may have no /proc/kcore; where it has one it is masked');
  });

  it('a default container: Docker\'s device cgroup, so a block device made with mknod cannot be read', async () => {
    const r = await d.cli(['run', '--rm', 'busybox', 'sh', '-c', `${DEVICES_LIST}; mknod /tmp/disk b 7 0 && echo mknod=ok; head -c 1 /tmp/disk >/dev/null 2>&1 && echo read=ok || echo read=denied`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^(c \*:\* m\n)?mknod=ok\nread=denied\n$/);
  });

  it('--privileged: the daemon\'s capabilities, no seccomp, namespaces, dmesg, mount, nothing masked, /proc/sys and /sys writable, every device', async () => {
    const device = hostOnlyDevice();
    const r = await d.cli(['run', '--rm', '--privileged', 'busybox', 'sh', '-c', `${PROBE}; ${DEVICES_LIST}; [ -c /dev/${device ?? 'null'} ] && echo device=present`]);
    assert.equal(r.code, 0, r.stderr);
    const p = probeOf(r.stdout);
    assert.deepEqual({ ...p, kcore: undefined }, {
      Seccomp: '0', CapEff: heldBy(d.pid!), 'unshare-U': 'ok', 'unshare-m': 'ok', dmesg: 'ok', mount: 'ok',
      kcore: undefined, keys: 'visible', firmware: p.firmware, 'proc-sys': 'rw', sys: 'rw', device: 'present', cgroupfs: p.cgroupfs,
    }, r.stdout);
    if (p.cgroupfs !== undefined) assert.equal(p.cgroupfs, 'rw', 'its cgroups are writable, as Docker mounts them for a privileged container');
    assert.match(p.kcore!, /^(visible|absent)$/);
    assert.match(r.stdout, /^(a \*:\* rwm\n)?device=present$/m, 'the device cgroup is open');
    const exec = await d.cli(['run', '-d', '--name', 'priv', '--privileged', 'busybox', 'sleep', '60']);
    assert.equal(exec.code, 0, exec.stderr);
    const inExec = await d.cli(['exec', 'priv', 'grep', '^Seccomp:', '/proc/self/status']);
    assert.match(inExec.stdout, /^Seccomp:\s+0$/m, 'an exec of a privileged container has no filter either');
    const shown = await d.cli(['inspect', '-f', '{{.HostConfig.Privileged}}', 'priv']);
    assert.equal(shown.stdout.trim(), 'true');
    assert.equal((await d.cli(['rm', '-f', 'priv'])).code, 0);
  });

  it('--cap-add SYS_ADMIN --security-opt seccomp=unconfined: mount works; --cap-drop ALL: no capability, in the container and its execs', async () => {
    const admin = await d.cli(['run', '--rm', '--cap-add', 'sys_admin', '--security-opt', 'seccomp=unconfined', 'busybox', 'sh', '-c', PROBE]);
    assert.equal(admin.code, 0, admin.stderr);
    assert.equal(probeOf(admin.stdout).mount, 'ok');
    assert.equal(probeOf(admin.stdout).CapEff, '00000000a82425fb');
    const none = await d.cli(['run', '-d', '--name', 'nocaps', '--cap-drop', 'ALL', '--cap-add', 'CAP_NET_BIND_SERVICE', 'busybox', 'sleep', '60']);
    assert.equal(none.code, 0, none.stderr);
    const exec = await d.cli(['exec', 'nocaps', 'grep', '^Cap\\(Eff\\|Bnd\\):', '/proc/self/status']);
    assert.equal(exec.stdout.replace(/\t/g, ' '), 'CapEff: 0000000000000400\nCapBnd: 0000000000000400\n');
    const shown = await d.cli(['inspect', '-f', '{{json .HostConfig.CapAdd}} {{json .HostConfig.CapDrop}}', 'nocaps']);
    assert.equal(shown.stdout.trim(), '["CAP_NET_BIND_SERVICE"] ["ALL"]');
    assert.equal((await d.cli(['rm', '-f', 'nocaps'])).code, 0);
    const dropAll = await d.cli(['run', '--rm', '--cap-drop', 'ALL', 'busybox', 'grep', '^CapEff:', '/proc/self/status']);
    assert.match(dropAll.stdout, /^CapEff:\s+0000000000000000$/m);
  });

  it('an unknown capability, or one the daemon lacks, fails create in one line (exit 125) and creates nothing', async () => {
    const before = (await d.cli(['ps', '-aq'])).stdout;
    const unknown = await d.cli(['run', '--rm', '--cap-add', 'foo', 'busybox', 'true']);
    assert.equal(unknown.code, 125);
    assert.equal(unknown.stderr, 'Error response from daemon: invalid CapAdd: unknown capability: "CAP_FOO"\n');
    const missing = (BigInt(`0x${heldBy(d.pid!)}`) & (1n << 24n)) === 0n;
    if (missing) {
      const r = await d.cli(['run', '--rm', '--cap-add', 'SYS_RESOURCE', 'busybox', 'true']);
      assert.equal(r.code, 125);
      assert.match(r.stderr, /^Error response from daemon: invalid CapAdd: CAP_SYS_RESOURCE: the daemon does not hold it/);
    }
    assert.equal((await d.cli(['ps', '-aq'])).stdout, before);
  });

  it('--read-only with --tmpfs /tmp and --mount type=tmpfs: the root refuses writes, the tmpfs mounts take them with Docker\'s options', async () => {
    const r = await d.cli(['run', '--rm', '--read-only', '--tmpfs', '/tmp', '--tmpfs', '/run:size=1m,mode=700', '--mount', 'type=tmpfs,dst=/data,tmpfs-mode=1770', 'busybox', 'sh', '-c',
      'touch /x 2>&1; touch /tmp/x && echo tmp=ok; echo y > /dev/shm/y && echo shm=ok; awk \'$2 ~ /^\\/(tmp|run|data)?$/ { print $2, $4 }\' /proc/mounts; stat -c "%a" /data']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^touch: \/x: Read-only file system\ntmp=ok\nshm=ok\n/);
    assert.match(r.stdout, /^\/ ro,/m);
    assert.match(r.stdout, /^\/tmp rw,nosuid,nodev,noexec,relatime$/m);
    assert.match(r.stdout, /^\/run rw,nosuid,nodev,noexec,relatime,size=1024k,mode=700$/m);
    assert.match(r.stdout, /^1770$/m);
    const workdir = await d.cli(['run', '--rm', '--read-only', '-w', '/new/dir', 'busybox', 'pwd']);
    assert.equal(workdir.stdout, '/new/dir\n', `a missing working directory is made before the root is read-only: ${workdir.stderr}`);
    const bad = await d.cli(['run', '--rm', '--tmpfs', '/t:nope', 'busybox', 'true']);
    assert.equal(bad.code, 125);
    assert.equal(bad.stderr, 'Error response from daemon: invalid tmpfs option ["nope"]\n');
  });

  it('--device /dev/null:/dev/mynull: the node inside, usable; a missing device fails the start naming it', async () => {
    const r = await d.cli(['run', '--rm', '--device', '/dev/null:/dev/mynull', 'busybox', 'sh', '-c', 'ls -l /dev/mynull | cut -c1; echo x > /dev/mynull && echo write=ok']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'c\nwrite=ok\n');
    // A device outside Docker's defaults (the kernel log, 1:11) gets its own rule, with the permissions given.
    if (existsSync('/dev/kmsg') && existsSync('/sys/fs/cgroup/devices/devices.list')) {
      const rule = await d.cli(['run', '--rm', '--device', '/dev/kmsg:/dev/k:r', 'busybox', 'sh', '-c', 'ls -l /dev/k | awk \'{ print $1, $5, $6 }\'; grep -x "c 1:11 r" /sys/fs/cgroup/devices/devices.list']);
      assert.match(rule.stdout, /^c[rw-]{9} 1, 11\nc 1:11 r\n$/, rule.stderr);
      const without = await d.cli(['run', '--rm', 'busybox', 'sh', '-c', 'grep -c "c 1:11" /sys/fs/cgroup/devices/devices.list']);
      assert.equal(without.stdout, '0\n');
    }
    const missing = await d.cli(['run', '--rm', '--device', '/dev/no-such-device', 'busybox', 'true']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /error gathering device information while adding custom device "\/dev\/no-such-device": no such file or directory/);
  });

  it('a setuid-root program raises a non-root user\'s euid as in Docker (NoNewPrivs 0); --security-opt no-new-privileges stops it (NoNewPrivs 1), in execs too', async () => {
    const dir = join(d.root, 'suid');
    mkdirSync(dir);
    const probe = join(dir, 'euid-probe');
    const cc = await runCommand('gcc', ['-static', '-O1', '-Wall', '-Werror', '-o', probe, join(REPO_ROOT, 'test', 'fixtures', 'euid-probe.c')]);
    assert.equal(cc.code, 0, `building the euid probe failed: ${cc.stderr}`);
    chmodSync(probe, 0o4755); // owned by root (the test runs as root): setuid root
    const script = '/suid/euid-probe; grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status | tr -d "\t "';
    const run = (opts: readonly string[]): Promise<{ stdout: string; stderr: string; code: number | null }> =>
      d.cli(['run', '--rm', '--user', '1000:1000', '-v', `${dir}:/suid:ro`, ...opts, 'busybox', 'sh', '-c', script]);
    const plain = await run([]);
    assert.equal(plain.stdout, 'uid=1000 euid=0\nNoNewPrivs:0\nSeccomp:2\n', `Docker's default: the setuid bit works, under the filter: ${plain.stderr}`);
    const nnp = await run(['--security-opt', 'no-new-privileges']);
    assert.equal(nnp.stdout, 'uid=1000 euid=1000\nNoNewPrivs:1\nSeccomp:2\n', nnp.stderr);
    const unconfined = await run(['--security-opt', 'seccomp=unconfined']);
    assert.equal(unconfined.stdout, 'uid=1000 euid=0\nNoNewPrivs:0\nSeccomp:0\n', unconfined.stderr);
    for (const [name, opts, euid, flag] of [['suid-nnp', ['--security-opt', 'no-new-privileges=true'], '1000', '1'], ['suid-plain', [], '0', '0']] as const) {
      const started = await d.cli(['run', '-d', '--name', name, '-v', `${dir}:/suid:ro`, ...opts, 'busybox', 'sleep', '60']);
      assert.equal(started.code, 0, started.stderr);
      const exec = await d.cli(['exec', '--user', '1000', name, 'sh', '-c', script]);
      assert.equal(exec.stdout, `uid=1000 euid=${euid}\nNoNewPrivs:${flag}\nSeccomp:2\n`, `${name}'s exec: ${exec.stderr}`);
      assert.equal((await d.cli(['rm', '-f', name])).code, 0);
    }
  });

  it('a seccomp filter is compiled once per profile and capability set, then read from the cache (a damaged entry is made again)', async () => {
    const cache = join(d.execRoot, 'isolator.v1.namespaces', 'seccomp-cache');
    const programs = (): string[] => (existsSync(cache) ? readdirSync(cache).filter((f) => f.endsWith('.bpf')).sort() : []);
    const probe = ['run', '--rm', '--cap-add', 'SYS_PTRACE', 'busybox', 'sh', '-c', 'grep "^Seccomp:" /proc/self/status | tr -d "\\t "; unshare -U true 2>/dev/null || echo denied'];
    const before = programs();
    const first = await d.cli(probe);
    assert.equal(first.stdout, 'Seccomp:2\ndenied\n', first.stderr);
    const made = programs().filter((f) => !before.includes(f));
    assert.equal(made.length, 1, `one new program for a new capability set: ${made.join(' ')}`);
    const program = join(cache, made[0]!);
    assert.match(made[0]!, /^[0-9a-f]{64}-libseccomp-\d+\.\d+\.\d+\.bpf$/);
    const again = await d.cli(probe);
    assert.equal(again.stdout, 'Seccomp:2\ndenied\n', again.stderr);
    assert.deepEqual(programs().filter((f) => !before.includes(f)), made, 'the same profile and capabilities: the same program');
    const size = statSync(program).size;
    truncateSync(program, 3); // not whole instructions: compiled again
    const damaged = await d.cli(probe);
    assert.equal(damaged.stdout, 'Seccomp:2\ndenied\n', damaged.stderr);
    assert.equal(statSync(program).size, size, 'written again whole');
  });

  it('the docker client: --cap-drop ALL, --read-only --tmpfs /tmp, --privileged, --security-opt seccomp=unconfined', { skip: DOCKER_CLIENT_MISSING }, async () => {
    const drop = await d.docker(['run', '--rm', '--cap-drop', 'ALL', 'busybox', 'grep', '^CapEff:', '/proc/self/status']);
    assert.match(drop.stdout, /^CapEff:\s+0000000000000000$/m, drop.stderr);
    const ro = await d.docker(['run', '--rm', '--read-only', '--tmpfs', '/tmp', 'busybox', 'sh', '-c', 'touch /x 2>/dev/null || echo root=ro; touch /tmp/x && echo tmp=ok']);
    assert.equal(ro.stdout, 'root=ro\ntmp=ok\n', ro.stderr);
    const priv = await d.docker(['run', '--rm', '--privileged', 'busybox', 'sh', '-c', PROBE]);
    assert.equal(priv.code, 0, priv.stderr);
    assert.equal(probeOf(priv.stdout).Seccomp, '0');
    assert.equal(probeOf(priv.stdout).CapEff, heldBy(d.pid!));
    assert.equal(probeOf(priv.stdout).mount, 'ok');
    const unconfined = await d.docker(['run', '--rm', '--cap-add', 'SYS_ADMIN', '--security-opt', 'seccomp=unconfined', 'busybox', 'sh', '-c', PROBE]);
    assert.equal(probeOf(unconfined.stdout).mount, 'ok', unconfined.stderr);
    const def = await d.docker(['run', '--rm', 'busybox', 'sh', '-c', PROBE]);
    assert.equal(probeOf(def.stdout).CapEff, '00000000a80425fb', def.stderr);
    assert.equal(probeOf(def.stdout).mount, 'denied');
  });
});
