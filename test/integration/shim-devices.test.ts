// Integration: the shim's device cgroup program on cgroup v2 (an eBPF program on the container's
// cgroup2 folder, from the spec's device-rule lines). It runs wherever a cgroup2 hierarchy is
// mounted: the hybrid layout's /sys/fs/cgroup/unified (where the v1 devices controller leaves the
// test's processes open, so the program is the only thing in the way) or a pure v2 host.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULT_DEVICE_RULES } from '../../core/security/container-security.js';
import { ShimConnection, startShim, writeSpec, type ShimRunSpec } from '../../plugins/isolator-namespaces/shim-protocol.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const binDir = join(repo, 'dist', 'plugins', 'isolator-namespaces', 'bin');
const shimBinary = join(binDir, 'mini-docker-shim');

/** Where this process sits in a cgroup2 hierarchy, or why there is none. */
function cgroup2Base(): string | { skip: string } {
  if (process.getuid?.() !== 0) return { skip: 'needs root' };
  const own = /^0::(.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1];
  if (own === undefined) return { skip: 'this process is in no cgroup2 hierarchy' };
  for (const mount of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
    if (existsSync(join(mount, 'cgroup.controllers'))) return join(mount, own);
  }
  return { skip: 'no cgroup2 hierarchy is mounted at /sys/fs/cgroup or /sys/fs/cgroup/unified' };
}

const base = cgroup2Base();
const skip = typeof base === 'string' ? false : base.skip;

describe('shim: the device cgroup program on cgroup v2 (integration)', { skip }, () => {
  let scratch = '';
  let rootfs = '';
  const cgroups: string[] = [];
  const shims: number[] = [];

  before(() => {
    const r = spawnSync('make', ['-s', '-C', join(repo, 'plugins', 'isolator-namespaces', 'shim'), `OUT=${binDir}`], { stdio: 'inherit' });
    assert.equal(r.status, 0, 'building the shim');
    scratch = mkdtempSync(join(process.env.TINY_DOCKER_TEST_SCRATCH ?? tmpdir(), 'shim-devices-'));
    rootfs = join(scratch, 'rootfs');
    mkdirSync(join(rootfs, 'bin'), { recursive: true });
    mkdirSync(join(rootfs, 'tmp'));
    copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
    chmodSync(join(rootfs, 'bin', 'busybox'), 0o755);
    const applets = new Set(execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n'));
    for (const a of ['sh', 'echo', 'head', 'mknod', 'grep', 'rm']) if (applets.has(a)) symlinkSync('busybox', join(rootfs, 'bin', a));
  });

  after(() => {
    for (const pid of shims) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch { /* gone */ }
    }
    for (const dir of cgroups) {
      for (let i = 0; i < 50 && existsSync(dir); i++) {
        try {
          rmdirSync(dir);
        } catch { execFileSync('sleep', ['0.1']); }
      }
    }
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  /** Runs `script` in a container whose cgroup2 folder is a fresh one; its output and exit code. */
  async function runIn(script: string, extra: Partial<ShimRunSpec>): Promise<{ stdout: string; exitCode: number }> {
    const dir = join(base as string, `mini-docker-test-${randomBytes(4).toString('hex')}`);
    mkdirSync(dir);
    cgroups.push(dir);
    const bundle = mkdtempSync(join(scratch, 'bundle-'));
    await writeSpec(join(bundle, 'spec'), { id: 'devices', rootfs, args: ['sh', '-c', script], env: ['PATH=/bin'], hostname: 'box', cgroups: [dir], ...extra });
    const started = await startShim(shimBinary, bundle);
    shims.push(started.shimPid);
    const conn = new ShimConnection(bundle);
    const chunks: Buffer[] = [];
    return new Promise((resolve, reject) => {
      conn.on('output', (m) => {
        if (m.stream === 'stdout') chunks.push(m.data);
        conn.ack(m.end);
      });
      conn.on('exit', (exit) => {
        conn.close();
        resolve({ stdout: Buffer.concat(chunks).toString(), exitCode: exit.exitCode });
      });
      conn.on('close', (err) => reject(err ?? new Error('closed before EXIT')));
    });
  }

  // Without a driver behind them the kernel says ENXIO; "not permitted" is the device cgroup's answer.
  const PROBE = [
    'echo x > /dev/null && echo null=ok',
    'rm -f /tmp/disk; mknod /tmp/disk b 7 0 && echo mknod=ok',
    'head -c 1 /tmp/disk 2>&1 >/dev/null | grep -q "not permitted" && echo disk=denied || echo disk=open',
  ].join('; ');

  it('Docker\'s default rules: /dev/null works, mknod of any device works, opening a disk does not', async () => {
    const r = await runIn(PROBE, { deviceRules: DEFAULT_DEVICE_RULES });
    assert.equal(r.stdout, 'null=ok\nmknod=ok\ndisk=denied\n');
    const open = await runIn(PROBE, {});
    assert.equal(open.stdout, 'null=ok\nmknod=ok\ndisk=open\n', 'no device-rule lines (privileged): nothing attached');
  });

  it('a rule with r only lets the device be read, not written', async () => {
    const rules = [...DEFAULT_DEVICE_RULES.filter((r) => r.minor !== 5 || r.major !== 1), { type: 'c' as const, major: 1, minor: 5, access: 'r' }];
    const script = 'rm -f /tmp/z; mknod /tmp/z c 1 5; head -c 1 /tmp/z >/dev/null 2>&1 && echo read=ok; (echo x > /tmp/z) 2>&1 | grep -q "not permitted" && echo write=denied';
    assert.equal((await runIn(script, { deviceRules: rules })).stdout, 'read=ok\nwrite=denied\n');
    assert.equal((await runIn(script, { deviceRules: DEFAULT_DEVICE_RULES })).stdout, 'read=ok\n', 'rwm: written too');
  });
});
