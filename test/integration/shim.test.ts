// Integration: the real shim against the real kernel (root, namespaces, overlayfs, cgroups v1 or v2).
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import {
  ShimConnection,
  ShimStartError,
  readExitFile,
  spawnExec,
  startShim,
  writeSpec,
  type ExitMessage,
  type OutputMessage,
  type ShimExecSpec,
  type ShimRunSpec,
  type ShimStarted,
  type StartedMessage,
} from '../../plugins/isolator-namespaces/shim-protocol.js';
import { alive, processStartTime } from '../fixtures/proc-stat.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const binDir = join(repo, 'dist', 'plugins', 'isolator-namespaces', 'bin');
const shimBinary = join(binDir, 'mini-docker-shim');
const isRoot = process.getuid?.() === 0;
const skip = isRoot ? false : 'needs root';

const APPLETS = ['sh', 'cat', 'echo', 'id', 'hostname', 'ps', 'ls', 'sleep', 'stty', 'pwd', 'grep', 'wc', 'touch', 'env', 'tty', 'test', 'read', 'kill', 'printf', 'head', 'seq', 'rm', 'ln', 'mkfifo', 'mknod'];
const DOCKER_DEFAULT_CAPS = '00000000a80425fb';

let scratch = '';
let rootfs = '';
const shimPids = new Set<number>();

function makeRootfs(dir: string): void {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  mkdirSync(join(dir, 'etc'), { recursive: true });
  copyFileSync('/bin/busybox', join(dir, 'bin', 'busybox'));
  chmodSync(join(dir, 'bin', 'busybox'), 0o755);
  const available = new Set(execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n'));
  for (const a of APPLETS) if (available.has(a)) symlinkSync('busybox', join(dir, 'bin', a));
  writeFileSync(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n');
  writeFileSync(join(dir, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\nstaff:x:50:nobody\n');
  writeFileSync(join(dir, 'etc', 'not-executable'), 'data\n');
}

/**
 * A fresh cgroup for a test container under this process's own cgroup, on whatever this host has:
 * the unified hierarchy on a pure cgroup v2 host, else the v1 pids hierarchy (null when it is not
 * mounted). `line` matches the entry of /proc/<pid>/cgroup that names it (`path` as seen from where it is read).
 */
function testCgroup(): { dir: string; line: (path: string) => RegExp; procsInside: string } | null {
  const name = `mini-docker-test-${randomBytes(4).toString('hex')}`;
  const self = readFileSync('/proc/self/cgroup', 'utf8');
  const escape = (p: string) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) {
    const own = /^0::(.*)$/m.exec(self)?.[1] ?? '/';
    const dir = join('/sys/fs/cgroup', own, name);
    mkdirSync(dir);
    return { dir, line: (path) => new RegExp(`^0::${escape(path)}$`, 'm'), procsInside: '/sys/fs/cgroup/cgroup.procs' };
  }
  if (!existsSync('/sys/fs/cgroup/pids/cgroup.procs')) return null;
  const own = /^\d+:pids:(.*)$/m.exec(self)?.[1] ?? '/';
  const dir = join('/sys/fs/cgroup/pids', own, name);
  mkdirSync(dir);
  return { dir, line: (path) => new RegExp(`^\\d+:pids:${escape(path)}$`, 'm'), procsInside: '/sys/fs/cgroup/pids/cgroup.procs' };
}

const NO_PIDS_HIERARCHY = 'the cgroup v1 pids controller is not mounted at /sys/fs/cgroup/pids (and this host is not pure cgroup v2)';

/** The path of a cgroup folder relative to its hierarchy's root, as /proc/<pid>/cgroup names it. */
function hierarchyPath(dir: string): string {
  return existsSync('/sys/fs/cgroup/cgroup.controllers') ? dir.slice('/sys/fs/cgroup'.length) : dir.slice('/sys/fs/cgroup/pids'.length);
}

function newBundle(): string {
  return mkdtempSync(join(scratch, 'bundle-'));
}

function baseSpec(args: string[], extra: Partial<ShimRunSpec> = {}): ShimRunSpec {
  return { id: 'test', rootfs, args, env: ['PATH=/bin', 'HOSTNAME=box'], hostname: 'box', ...extra };
}

async function run(spec: ShimRunSpec, bundle = newBundle()): Promise<ShimStarted & { bundle: string }> {
  await writeSpec(join(bundle, 'spec'), spec);
  const started = await startShim(shimBinary, bundle);
  shimPids.add(started.shimPid);
  return { ...started, bundle };
}

interface Collected {
  stdout: string;
  stderr: string;
  chunks: OutputMessage[];
  exit: ExitMessage;
}

/** Connects, acks every chunk, and resolves at EXIT (then closes, letting the shim exit). */
function attach(bundle: string, onOutput?: (m: OutputMessage, c: ShimConnection) => void): { conn: ShimConnection; done: Promise<Collected> } {
  const conn = new ShimConnection(bundle);
  const chunks: OutputMessage[] = [];
  const done = new Promise<Collected>((resolve, reject) => {
    conn.on('output', (m) => {
      chunks.push(m);
      conn.ack(m.end);
      onOutput?.(m, conn);
    });
    conn.on('exit', (exit) => {
      conn.close();
      const text = (s: string): string => Buffer.concat(chunks.filter((c) => c.stream === s).map((c) => c.data)).toString();
      resolve({ stdout: text('stdout'), stderr: text('stderr'), chunks, exit });
    });
    conn.on('close', (err) => reject(err ?? new Error('closed before EXIT')));
  });
  return { conn, done };
}

function collect(bundle: string, onOutput?: (m: OutputMessage, c: ShimConnection) => void): Promise<Collected> {
  return attach(bundle, onOutput).done;
}


async function waitFor(cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function waitExit(pid: number): Promise<void> {
  await waitFor(() => !alive(pid), 5000);
  shimPids.delete(pid);
}

/** Ends a running container the way a daemon would: SIGKILL the init, collect the exit. */
async function stop(c: ShimStarted & { bundle: string }): Promise<void> {
  const exit = collect(c.bundle);
  process.kill(c.initPid, 'SIGKILL');
  await exit;
  await waitExit(c.shimPid);
}

function killShim(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** A test's `finally`: a shim the test did not see exit (an assertion failed first) is killed and waited for; its init goes with it (PR_SET_PDEATHSIG), and the processes of its PID namespace with the init. */
async function endShim(c: ShimStarted): Promise<void> {
  if (!shimPids.has(c.shimPid)) return;
  killShim(c.shimPid);
  await waitExit(c.shimPid);
  await waitFor(() => !alive(c.initPid));
}

before(() => {
  if (!isRoot) return;
  const r = spawnSync('make', ['-s', '-C', join(repo, 'plugins', 'isolator-namespaces', 'shim'), `OUT=${binDir}`], { stdio: 'inherit' });
  assert.equal(r.status, 0, 'building the shim');
  scratch = mkdtempSync(join(process.env.TINY_DOCKER_TEST_SCRATCH ?? tmpdir(), 'shim-test-'));
  rootfs = join(scratch, 'rootfs');
  makeRootfs(rootfs);
});

after(() => {
  for (const pid of shimPids) killShim(pid);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('integration: shim run mode', { skip }, () => {
  it('runs the command as PID 1 in new namespaces with Docker-like isolation', async () => {
    const script = [
      'echo "pid=$$ cmd=$(head -c 2 /proc/1/cmdline)"',
      'echo "host=$(hostname)"',
      'grep -c : /proc/net/dev',
      'grep -o "^ *lo:" /proc/net/dev',
      'test -e /usr/bin/node && echo "host visible" || echo "host hidden"',
      'for f in /proc/kcore /proc/timer_list /proc/keys; do test -e $f && echo "masked $f=$(wc -c < $f)"; done',
      'touch /sys/x 2>/dev/null && echo "sys rw" || echo "sys ro"',
      'grep -E "^(CapEff|CapBnd|NoNewPrivs):" /proc/self/status',
      'echo "cwd=$(pwd) foo=$FOO home=$HOME"',
      'ls /dev',
      'echo oops >&2',
      'exit 3',
    ].join('; ');
    const c = await run(baseSpec(['sh', '-c', script], { cwd: '/work/dir', env: ['PATH=/bin', 'FOO=a b\tc'] }));
    const out = await collect(c.bundle);
    assert.match(out.stdout, /^pid=1 cmd=sh$/m);
    assert.match(out.stdout, /^host=box$/m);
    assert.match(out.stdout, /^1$/m, 'only one interface in /proc/net/dev');
    assert.match(out.stdout, /^ *lo:$/m);
    assert.match(out.stdout, /^host hidden$/m);
    assert.match(out.stdout, /^masked \/proc\/timer_list=0$/m);
    for (const m of out.stdout.matchAll(/^masked (\S+)=(\d+)$/gm)) assert.equal(m[2], '0', `${m[1]} masked`);
    if (existsSync('/proc/kcore')) assert.match(out.stdout, /^masked \/proc\/kcore=0$/m);
    assert.match(out.stdout, /^sys ro$/m);
    assert.match(out.stdout, new RegExp(`^CapEff:\\s+${DOCKER_DEFAULT_CAPS}$`, 'm'));
    assert.match(out.stdout, new RegExp(`^CapBnd:\\s+${DOCKER_DEFAULT_CAPS}$`, 'm'));
    assert.match(out.stdout, /^NoNewPrivs:\s+0$/m, 'no_new_privs only when asked, as Docker');
    assert.match(out.stdout, /^cwd=\/work\/dir foo=a b\tc home=\/root$/m);
    for (const dev of ['null', 'zero', 'full', 'random', 'urandom', 'tty', 'pts', 'ptmx', 'shm', 'fd', 'stdin']) assert.match(out.stdout, new RegExp(`^${dev}$`, 'm'));
    assert.equal(out.stderr, 'oops\n');
    assert.equal(out.exit.exitCode, 3);
    assert.equal(out.exit.signal, 0);
    await waitExit(c.shimPid);
    assert.ok(!existsSync(join(c.bundle, 'shim.sock')), 'socket removed at exit');
  });

  it('writes the exit file atomically with code, signal and time', async () => {
    const c = await run(baseSpec(['sh', '-c', 'exit 0']));
    await waitFor(async () => (await readExitFile(c.bundle)) !== null);
    const exit = await readExitFile(c.bundle);
    assert.ok(exit);
    assert.equal(exit.exitCode, 0);
    assert.equal(exit.signal, 0);
    assert.match(exit.finishedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    assert.ok(Math.abs(Date.parse(exit.finishedAt) - Date.now()) < 10_000);
    assert.match(readFileSync(join(c.bundle, 'exit'), 'utf8'), /^0 0 \S+\n$/);
    assert.ok(!existsSync(join(c.bundle, 'exit.tmp')));
    assert.equal(readFileSync(join(c.bundle, 'shim.pid'), 'utf8').trim(), String(c.shimPid));
    const out = await collect(c.bundle);
    assert.deepEqual(out.exit, { type: 'exit', ...exit });
    await waitExit(c.shimPid);
  });

  it('reports 128+n when the init is killed by a signal (SIGNAL frame)', async () => {
    const c = await run(baseSpec(['sleep', '1000']));
    const conn = new ShimConnection(c.bundle);
    const exit = new Promise<ExitMessage>((resolve) => conn.on('exit', resolve));
    await conn.ready;
    conn.signal(9);
    const e = await exit;
    conn.close();
    assert.equal(e.exitCode, 137);
    assert.equal(e.signal, 9);
    assert.equal((await readExitFile(c.bundle))?.exitCode, 137);
    await waitExit(c.shimPid);
  });

  it('forwards SIGTERM sent to the shim to the init', async () => {
    const c = await run(baseSpec(['sh', '-c', 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.05; done']));
    const done = collect(c.bundle, (m) => {
      if (m.data.toString().includes('ready')) process.kill(c.shimPid, 'SIGTERM');
    });
    const out = await done;
    assert.match(out.stdout, /got-term/);
    assert.equal(out.exit.exitCode, 7);
    await waitExit(c.shimPid);
  });

  it('reports 127 / 126 / 125 with Docker wording when the process cannot start', async () => {
    const cases: Array<[string[], number, RegExp, Partial<ShimRunSpec>?]> = [
      [['no-such-cmd'], 127, /exec: "no-such-cmd": executable file not found in \$PATH/],
      [['/bin/nope'], 127, /no such file or directory/],
      [['/etc/not-executable'], 126, /permission denied/],
      [['/etc'], 126, /is a directory/],
      [['id'], 125, /unable to find user ghost/, { user: 'ghost' }],
      [['id'], 125, /mount .*tmpfs/, { mounts: [{ type: 'tmpfs', source: 'tmpfs', target: join(scratch, 'm'), options: 'bogus_option=1' }] }],
    ];
    for (const [args, code, message, extra] of cases) {
      const bundle = newBundle();
      await writeSpec(join(bundle, 'spec'), baseSpec(args, extra));
      await assert.rejects(startShim(shimBinary, bundle), (err: unknown) => {
        assert.ok(err instanceof ShimStartError, String(err));
        assert.equal(err.exitCode, code, err.message);
        assert.match(err.message, message);
        return true;
      });
      assert.ok(!existsSync(join(bundle, 'shim.sock')));
    }
  });

  it('refuses a bad spec with the key and line', async () => {
    const bundle = newBundle();
    writeFileSync(join(bundle, 'spec'), 'version 1\narg x\nfrobnicate 1\n');
    await assert.rejects(startShim(shimBinary, bundle), /line 3: unknown key "frobnicate"/);
    writeFileSync(join(bundle, 'spec'), 'version 2\narg x\n');
    await assert.rejects(startShim(shimBinary, bundle), /version/);
  });

  it('switches user (name, uid:gid) with supplementary groups from /etc/group', async () => {
    const a = await collect((await run(baseSpec(['id'], { user: 'nobody' }))).bundle);
    assert.equal(a.stdout, 'uid=65534(nobody) gid=65534(nogroup) groups=50(staff)\n');
    const b = await run(baseSpec(['sh', '-c', 'id; grep CapEff /proc/self/status; echo $HOME'], { user: '1000:50' }));
    const out = await collect(b.bundle);
    assert.match(out.stdout, /^uid=1000 gid=50\(staff\)/m);
    assert.match(out.stdout, /^CapEff:\s+0000000000000000$/m);
    assert.match(out.stdout, /^\/$/m);
  });

  it('pipes stdin to the process and closes it on STDIN_CLOSE', async () => {
    const c = await run(baseSpec(['sh', '-c', 'cat; echo done'], { stdin: true }));
    const { conn, done } = attach(c.bundle);
    await conn.ready;
    conn.stdin(Buffer.from('line one\n'));
    conn.stdin(Buffer.from('line two\n'));
    conn.closeStdin();
    const out = await done;
    assert.equal(out.stdout, 'line one\nline two\ndone\n');
    assert.equal(out.exit.exitCode, 0);
    await waitExit(c.shimPid);
  });

  it('gives /dev/null as stdin without `stdin 1`', async () => {
    const out = await collect((await run(baseSpec(['sh', '-c', 'cat; echo eof']))).bundle);
    assert.equal(out.stdout, 'eof\n');
  });

  it('runs on an overlay rootfs from a mount line, leaving the lower layer untouched', async () => {
    const layer = mkdtempSync(join(scratch, 'overlay-'));
    for (const d of ['upper', 'work', 'merged']) mkdirSync(join(layer, d));
    const merged = join(layer, 'merged');
    const spec = baseSpec(['sh', '-c', 'echo new > /created; ls /created; cat /proc/1/mountinfo | grep " / / "'], {
      rootfs: merged,
      mounts: [{ type: 'overlay', source: 'overlay', target: merged, options: [`lowerdir=${rootfs}`, `upperdir=${join(layer, 'upper')}`, `workdir=${join(layer, 'work')}`] }],
    });
    const out = await collect((await run(spec)).bundle);
    assert.equal(out.exit.exitCode, 0, out.stderr);
    assert.match(out.stdout, /overlay/);
    assert.equal(readFileSync(join(layer, 'upper', 'created'), 'utf8'), 'new\n');
    assert.ok(!existsSync(join(rootfs, 'created')));
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(merged), 'the overlay lives only in the container mount namespace');
  });

  it('binds host paths: read-write, read-only all the way down, a file, a name with a space; never through an image symlink onto the host', async () => {
    const root = join(scratch, 'bind-rootfs');
    makeRootfs(root);
    const host = mkdtempSync(join(scratch, 'bind-src-'));
    writeFileSync(join(host, 'f'), 'host\n');
    mkdirSync(join(host, 'sub'));
    const spaced = join(scratch, 'with space');
    mkdirSync(spaced, { recursive: true });
    writeFileSync(join(spaced, 'g'), '');
    // An image whose /escape points at a host folder by an absolute link: a bind below it must
    // land inside the rootfs, never in the host folder.
    const victim = join(scratch, 'victim');
    mkdirSync(victim);
    symlinkSync(victim, join(root, 'escape'));
    assert.equal(spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', join(host, 'sub')]).status, 0, 'a mount below the ro bind');
    try {
      const script = [
        'cat /data/f', 'echo rw > /data/new', 'cat /ro/f',
        'echo x > /ro/y 2>/dev/null && echo ro-writable || echo ro-refused',
        'echo x > /ro/sub/y 2>/dev/null && echo sub-writable || echo sub-refused',
        'cat /etc/file', 'ls "/my data"', 'cat /escape/x/f',
      ].join('; ');
      const spec = baseSpec(['sh', '-c', script], {
        rootfs: root,
        binds: [
          { source: host, target: '/data', readOnly: false },
          { source: host, target: '/ro', readOnly: true },
          { source: join(host, 'f'), target: '/etc/file', readOnly: true },
          { source: spaced, target: '/my data', readOnly: false },
          { source: host, target: '/escape/x', readOnly: true },
        ],
      });
      const out = await collect((await run(spec)).bundle);
      assert.equal(out.exit.exitCode, 0, out.stderr);
      assert.equal(out.stdout, 'host\nhost\nro-refused\nsub-refused\nhost\ng\nhost\n');
      assert.equal(readFileSync(join(host, 'new'), 'utf8'), 'rw\n');
      assert.ok(!existsSync(join(victim, 'x')), 'nothing was made in the host folder the link names');
      assert.ok(existsSync(join(root, victim, 'x')), 'the mount point was made inside the rootfs');
      assert.ok(existsSync(join(root, 'etc', 'file')), 'a file bind gets an empty file as its mount point');
      assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(root), 'the binds live only in the container mount namespace');
    } finally {
      spawnSync('umount', [join(host, 'sub')]);
    }
  });

  it('says which bind failed when its host path is missing', async () => {
    const spec = baseSpec(['true'], { binds: [{ source: join(scratch, 'no-such-source'), target: '/data', readOnly: false }] });
    await assert.rejects(run(spec), (err: unknown) => err instanceof ShimStartError && /bind source .*no-such-source/.test(err.message));
  });

  it('shows no cgroup of the host at /sys/fs/cgroup when the spec gives the container none', async () => {
    const out = await collect((await run(baseSpec(['sh', '-c', 'ls /sys/fs/cgroup; echo end']))).bundle);
    assert.equal(out.exit.exitCode, 0, out.stderr);
    assert.equal(out.stdout, 'end\n');
  });

  it('puts the init into the spec cgroups with its own cgroup namespace', async (t) => {
    const cgroup = testCgroup();
    if (cgroup === null) return t.skip(NO_PIDS_HIERARCHY);
    const { dir, line, procsInside } = cgroup;
    try {
      const script = `cat /proc/self/cgroup; echo procs; cat ${procsInside}; touch /sys/fs/cgroup/x 2>/dev/null && echo writable || echo read-only; echo entries; ls /sys/fs/cgroup; read x`;
      const c = await run(baseSpec(['sh', '-c', script], { cgroups: [dir], stdin: true }));
      assert.match(readFileSync(`/proc/${c.initPid}/cgroup`, 'utf8'), line(hierarchyPath(dir)));
      assert.ok(readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').includes(String(c.initPid)));
      const { conn, done } = attach(c.bundle);
      await conn.ready;
      conn.closeStdin();
      const out = await done;
      assert.match(out.stdout, line('/'), 'the cgroup namespace root is the container cgroup');
      // /sys/fs/cgroup shows the container's own cgroup (its init is pid 1 there), read-only.
      assert.match(out.stdout.split('procs\n')[1] ?? '', /^1$/m, out.stdout);
      assert.match(out.stdout, /^read-only$/m);
      // Only where it has a cgroup of its own (here the one test cgroup): no name=systemd, no hybrid cgroup2.
      assert.doesNotMatch(out.stdout.split('entries\n')[1] ?? '', /^(systemd|unified|memory)$/m);
      await waitExit(c.shimPid);
    } finally {
      await waitFor(() => readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim() === '');
      rmdirSync(dir);
    }
  });
});

describe('integration: shim signal mode', { skip }, () => {
  it('signals the init only while it is the given parent\'s child (exit 0); another parent\'s (a reused pid) is left alone (exit 3)', async () => {
    const c = await run(baseSpec(['sleep', '1000']));
    const exit = collect(c.bundle);
    const signal = (pid: number, parent: number, sig: number): number | null => spawnSync(shimBinary, ['signal', String(pid), String(parent), String(sig)]).status;
    assert.equal(signal(c.initPid, process.pid, 9), 3, 'not our process: refused');
    assert.equal(alive(c.initPid), true, 'and left alone');
    assert.equal(signal(c.initPid, c.shimPid, 9), 0);
    assert.equal((await exit).exit.signal, 9);
    await waitExit(c.shimPid);
    assert.equal(signal(c.initPid, c.shimPid, 9), 3, 'gone: nothing to signal');
    assert.equal(spawnSync(shimBinary, ['signal', 'x', '1', '9']).status, 2);
  });

  it('signal-in signals a process only while it is in the PID namespace of the init, the init its shim\'s child; a host process is left alone', async () => {
    const c = await run(baseSpec(['sh', '-c', 'sleep 1000 & sleep 1000']));
    let host: ChildProcess | undefined;
    try {
      const exit = collect(c.bundle);
      await waitFor(() => readFileSync(`/proc/${c.initPid}/task/${c.initPid}/children`, 'utf8').trim() !== '');
      const inside = Number(readFileSync(`/proc/${c.initPid}/task/${c.initPid}/children`, 'utf8').trim().split(' ')[0]);
      host = spawn('sleep', ['1000'], { stdio: 'ignore' });
      const signalIn = (pid: number, init: number, parent: number): number | null =>
        spawnSync(shimBinary, ['signal-in', String(pid), String(init), String(parent), '9']).status;
      assert.equal(signalIn(host.pid!, c.initPid, c.shimPid), 3, 'a host process (a reused pid) is not in the container');
      assert.equal(alive(host.pid!), true, 'and left alone');
      assert.equal(signalIn(inside, c.initPid, process.pid), 3, 'an init that is not the named shim\'s child vouches for nothing');
      assert.equal(alive(inside), true);
      assert.equal(signalIn(inside, c.initPid, c.shimPid), 0);
      await waitFor(() => !alive(inside));
      assert.equal(alive(c.initPid), true, 'only the process named');
      assert.equal(spawnSync(shimBinary, ['signal-in', '1', 'x', '1', '9']).status, 2);
      assert.equal(spawnSync(shimBinary, ['signal-in', String(c.initPid), String(c.initPid), String(c.shimPid), '9', '12x']).status, 2, 'a start time is digits');
      assert.equal(spawnSync(shimBinary, ['signal', String(c.initPid), String(c.shimPid), '9']).status, 0);
      await exit;
      await waitExit(c.shimPid);
    } finally {
      host?.kill('SIGKILL');
      await endShim(c);
    }
  });

  it('signal-in with a start time: a process of the container on that pid that started at another time (a reused pid) is refused; the one that started then is signalled', async () => {
    const c = await run(baseSpec(['sh', '-c', 'sleep 1000 & sleep 1000']));
    try {
      const exit = collect(c.bundle);
      await waitFor(() => readFileSync(`/proc/${c.initPid}/task/${c.initPid}/children`, 'utf8').trim() !== '');
      const inside = Number(readFileSync(`/proc/${c.initPid}/task/${c.initPid}/children`, 'utf8').trim().split(' ')[0]);
      const startTime = processStartTime(inside);
      const signalIn = (start: number): number | null =>
        spawnSync(shimBinary, ['signal-in', String(inside), String(c.initPid), String(c.shimPid), '9', String(start)]).status;
      // The exec that was recorded on this pid started at another time: this process only reuses its pid.
      assert.equal(signalIn(startTime + 1), 3, 'another start time: not the recorded process');
      assert.equal(signalIn(0), 3);
      assert.equal(alive(inside), true, 'the process of the container on that pid is left alone');
      assert.equal(signalIn(startTime), 0, 'its own start time: signalled');
      await waitFor(() => !alive(inside));
      assert.equal(alive(c.initPid), true, 'only the process named');
      assert.equal(spawnSync(shimBinary, ['signal', String(c.initPid), String(c.shimPid), '9']).status, 0);
      await exit;
      await waitExit(c.shimPid);
    } finally {
      await endShim(c);
    }
  });

  it('end kills the shims whose command line is exactly `run <bundle>` (and with 1 their children first), waits for them, and nothing else', async () => {
    const c = await run(baseSpec(['sleep', '1000']));
    const other = await run(baseSpec(['sleep', '1000']));
    const end = (args: string[]): { status: number | null; stdout: string } => {
      const r = spawnSync(shimBinary, ['end', ...args], { encoding: 'utf8' });
      return { status: r.status, stdout: r.stdout };
    };
    assert.deepEqual(end(['run', `${c.bundle}/`, '0']), { status: 0, stdout: '0 0\n' }, 'another path (even the same folder spelled otherwise) is not its shim');
    assert.equal(alive(c.shimPid), true);
    assert.deepEqual(end(['run', c.bundle, '1']), { status: 0, stdout: '1 1\n' }, 'the shim and its child, the init');
    assert.equal(alive(c.shimPid), false, 'waited for');
    await waitExit(c.shimPid);
    await waitFor(() => !alive(c.initPid));
    assert.equal(alive(other.shimPid), true, 'another container\'s shim is left alone');
    assert.equal(end(['run', 'relative', '0']).status, 2);
    assert.deepEqual(end(['run', other.bundle, '0']), { status: 0, stdout: '1 0\n' });
    await waitExit(other.shimPid);
    await waitFor(() => !alive(other.initPid), 5000);
  });
});

describe('integration: shim network namespace and hold', { skip }, () => {
  async function runHeld(spec: ShimRunSpec, onHeld: (initPid: number) => Promise<void>): Promise<ShimStarted & { bundle: string }> {
    const bundle = newBundle();
    await writeSpec(join(bundle, 'spec'), { ...spec, hold: true });
    const started = await startShim(shimBinary, bundle, onHeld);
    shimPids.add(started.shimPid);
    return { ...started, bundle };
  }

  it('holds the init in its namespaces until the caller says go: what the caller did there is seen by the command', async () => {
    let heldPid = 0;
    let commandRanEarly = false;
    const c = await runHeld(baseSpec(['cat', '/proc/sys/net/ipv4/ip_default_ttl']), async (pid) => {
      heldPid = pid;
      // The init exists in a network namespace of its own, and its command has not run yet.
      commandRanEarly = readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sh');
      // A setting of the namespace's own (no kernel module needed, also in the test guest).
      execFileSync('nsenter', [`--net=/proc/${pid}/ns/net`, 'sysctl', '-qw', 'net.ipv4.ip_default_ttl=33']);
    });
    assert.equal(c.initPid, heldPid);
    assert.equal(commandRanEarly, false, 'the command waits for go');
    const out = await collect(c.bundle);
    assert.equal(out.stdout, '33\n');
    assert.equal(out.exit.exitCode, 0);
    await waitExit(c.shimPid);
  });

  it('ends the start with the caller\'s error when it rejects at the hold, leaving no process', async () => {
    let heldPid = 0;
    await assert.rejects(runHeld(baseSpec(['sleep', '1000']), async (pid) => {
      heldPid = pid;
      throw new Error('no address left on network app');
    }), /no address left on network app/);
    assert.ok(heldPid > 0);
    await waitFor(() => !alive(heldPid));
  });

  it('sets the init up while it is held (the caller\'s work runs beside the mounts), and runs the command only after go', async () => {
    let setUpWhileHeld = false;
    const c = await runHeld(baseSpec(['hostname']), async (pid) => {
      // The init's setup (root, pivot, hostname) goes on while the caller works at the hold.
      await waitFor(() => execFileSync('nsenter', [`--uts=/proc/${pid}/ns/uts`, 'hostname'], { encoding: 'utf8' }).trim() === 'box');
      setUpWhileHeld = !readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('hostname');
    });
    assert.equal(setUpWhileHeld, true, 'set up, and its command not run, before go');
    const out = await collect(c.bundle);
    assert.equal(out.stdout, 'box\n');
    await waitExit(c.shimPid);
  });

  it('reports the init\'s own setup error, not the caller\'s, when the setup failed while held (the caller failed because of it)', async () => {
    let heldPid = 0;
    const spec = baseSpec(['true'], { binds: [{ source: join(scratch, 'no-such-source'), target: '/data', readOnly: false }] });
    await assert.rejects(runHeld(spec, async (pid) => {
      heldPid = pid;
      await waitFor(() => !alive(pid)); // its namespace is gone with it: the caller's part fails
      throw new Error('cannot open the namespace');
    }), (err: unknown) => err instanceof ShimStartError && /bind source .*no-such-source/.test(err.message));
    assert.ok(heldPid > 0);
  });

  it('joins another container\'s network namespace (container:NAME: by path, or by its init checked by its parent) or the host\'s', async () => {
    const netnsOf = (pid: number | 'self'): string => readlinkSync(`/proc/${pid}/ns/net`);
    const seenInside = async (spec: ShimRunSpec): Promise<string> => {
      const c = await run(spec);
      const out = await collect(c.bundle);
      await waitExit(c.shimPid);
      return /net:\[\d+\]/.exec(out.stdout)?.[0] ?? out.stdout;
    };
    const first = await run(baseSpec(['sleep', '1000']));
    try {
      const script = ['sh', '-c', 'ls -l /proc/self/ns/net'];
      assert.equal(await seenInside(baseSpec(script, { netns: `/proc/${first.initPid}/ns/net` })), netnsOf(first.initPid));
      // By the init's pid checked by its parent, the shim: joined; with another parent (its pid reused by another process), refused.
      assert.equal(await seenInside(baseSpec(script, { netnsOf: { pid: first.initPid, parent: first.shimPid } })), netnsOf(first.initPid));
      await assert.rejects(run(baseSpec(script, { netnsOf: { pid: first.initPid, parent: process.pid } })),
        (err: unknown) => err instanceof ShimStartError && err.message.includes(`process ${first.initPid} is not its init (its parent is ${first.shimPid}, not its shim ${process.pid})`));
      assert.equal(await seenInside(baseSpec(script, { netns: 'host' })), netnsOf('self'));
      const own = await seenInside(baseSpec(script));
      assert.notEqual(own, netnsOf('self'));
      assert.notEqual(own, netnsOf(first.initPid));
    } finally {
      await stop(first);
    }
  });
});

describe('integration: shim output buffering', { skip }, () => {
  it('keeps output produced while no daemon is connected and delivers it once, in order', async () => {
    const c = await run(baseSpec(['sh', '-c', 'for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; sleep 0.02; done; exit 4']));
    await waitFor(async () => (await readExitFile(c.bundle)) !== null);
    const out = await collect(c.bundle);
    assert.equal(out.stdout, 'out1\nout2\nout3\nout4\nout5\n');
    assert.equal(out.stderr, 'err1\nerr2\nerr3\nerr4\nerr5\n');
    let expected = 0;
    for (const ch of out.chunks) {
      assert.equal(ch.offset, expected, 'contiguous offsets, nothing twice');
      expected = ch.end;
    }
    assert.equal(out.exit.exitCode, 4);
    await waitExit(c.shimPid);
  });

  it('resends only unacked output on reconnect, and sends EXIT only when all is acked', async () => {
    const c = await run(baseSpec(['sh', '-c', 'echo one; sleep 0.2; echo two; sleep 0.2; echo three']));
    await waitFor(async () => (await readExitFile(c.bundle)) !== null);

    const first: OutputMessage[] = [];
    let sawExit = false;
    const conn1 = new ShimConnection(c.bundle);
    conn1.on('output', (m) => first.push(m));
    conn1.on('exit', () => (sawExit = true));
    await waitFor(() => Buffer.concat(first.map((m) => m.data)).toString() === 'one\ntwo\nthree\n');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(sawExit, false, 'no EXIT while output is unacked');
    assert.ok(first.length >= 2, `separate chunks (${first.length})`);
    conn1.ack(first[0]!.end);
    await new Promise((r) => setTimeout(r, 50));
    conn1.close();

    const second = await collect(c.bundle);
    assert.equal(second.chunks[0]!.offset, first[0]!.end, 'resent from the first unacked offset');
    assert.deepEqual(
      second.chunks.map((m) => [m.offset, m.data.toString()]),
      first.slice(1).map((m) => [m.offset, m.data.toString()]),
    );
    assert.equal(second.exit.exitCode, 0);
    await waitExit(c.shimPid);
  });

  it('starts numbering output at the spec offset', async () => {
    const out = await collect((await run(baseSpec(['echo', 'hi'], { startOffset: 1000 }))).bundle);
    assert.deepEqual(out.chunks.map((m) => [m.offset, m.end]), [[1000, 1003]]);
  });

  it('blocks the writer when the buffer is full and never drops output', async () => {
    const c = await run(baseSpec(['sh', '-c', 'seq 1 40000; echo end'], { bufferBytes: 16384 }));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await readExitFile(c.bundle), null, 'the writer is blocked while nobody acks');
    const out = await collect(c.bundle);
    const expected = Array.from({ length: 40000 }, (_, i) => String(i + 1)).join('\n') + '\nend\n';
    assert.equal(out.stdout, expected);
    await waitExit(c.shimPid);
  });

  it('survives the death of the process that started it', async () => {
    const bundle = newBundle();
    await writeSpec(join(bundle, 'spec'), baseSpec(['sh', '-c', 'read x; echo after $x']));
    // A throwaway parent (like a daemon) that starts the shim and is then killed with -9.
    const parent = spawn('sh', ['-c', `"${shimBinary}" run "${bundle}"; exec sleep 60`], { stdio: ['ignore', 'pipe', 'ignore'] });
    const line = await new Promise<string>((resolve) => parent.stdout!.once('data', (d: Buffer) => resolve(d.toString())));
    const [, shimPid] = /^ok (\d+) (\d+)/.exec(line)!.map(Number);
    shimPids.add(shimPid!);
    parent.kill('SIGKILL');
    await new Promise((r) => parent.once('close', r));
    assert.ok(alive(shimPid!), 'shim still running');
    const ppid = Number(readFileSync(`/proc/${shimPid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
    assert.notEqual(ppid, parent.pid);
    assert.notEqual(ppid, process.pid);
    const fds = execFileSync('ls', ['-l', `/proc/${shimPid}/fd`], { encoding: 'utf8' });
    assert.match(fds, /0 -> \/dev\/null/);
    assert.match(fds, /1 -> \/dev\/null/);
    const { conn, done } = attach(bundle);
    await conn.ready;
    conn.closeStdin();
    const out = await done;
    assert.equal(out.stdout, 'after\n');
    await waitExit(shimPid!);
  });

  it('stays small (RSS under 2 MB)', async () => {
    const c = await run(baseSpec(['sleep', '1000']));
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${c.shimPid}/status`, 'utf8'))![1]);
    killShim(c.shimPid);
    await waitFor(() => !alive(c.initPid), 5000);
    shimPids.delete(c.shimPid);
    assert.ok(rss < 2048, `RSS ${rss} kB`);
  });
});

describe('integration: shim tty', { skip }, () => {
  it('gives the process a pty with the spec size and applies RESIZE', async () => {
    const c = await run(baseSpec(['sh', '-c', 'test -t 0 && test -t 1 && echo is-a-tty; stty size; read x; stty size'], { tty: true, stdin: true, rows: 30, cols: 100 }));
    let resized = false;
    const { conn, done } = attach(c.bundle, (_m, cn) => {
      if (!resized && _m.data.toString().includes('100')) {
        resized = true;
        cn.resize(50, 120);
        cn.stdin(Buffer.from('go\n'));
      }
    });
    await conn.ready;
    const out = await done;
    assert.match(out.stdout, /is-a-tty\r\n/);
    assert.match(out.stdout, /30 100\r\n/);
    assert.match(out.stdout, /50 120\r\n/);
    assert.equal(out.stderr, '');
    await waitExit(c.shimPid);
  });

  it('makes the pty in the container\'s own devpts, so the process knows its terminal\'s name', async () => {
    const c = await run(baseSpec(['sh', '-c', 'tty; ls /dev/pts'], { tty: true }));
    const out = await collect(c.bundle);
    assert.match(out.stdout, /^\/dev\/pts\/0\r\n0\s+ptmx\r\n$/);
    await waitExit(c.shimPid);
  });
});

describe('integration: shim exec mode', { skip }, () => {
  it('joins a running container: hostname, processes, cwd, env, cgroup, exit code', async (t) => {
    const cgroup = testCgroup();
    if (cgroup === null) return t.skip(NO_PIDS_HIERARCHY);
    const { dir, line } = cgroup;
    const c = await run(baseSpec(['sleep', '1000'], { cgroups: [dir], cwd: '/app' }));
    try {
      const specPath = join(c.bundle, 'exec-1.spec');
      const spec: ShimExecSpec = { pid: c.initPid, args: ['sh', '-c', 'hostname; ps -o pid,args; pwd; echo "foo=$FOO"; cat /proc/self/cgroup; id; grep NoNewPrivs /proc/self/status; echo e >&2; exit 5'], env: ['PATH=/bin', 'FOO=bar'], cwd: '/app', cgroups: [dir], user: 'nobody', noNewPrivileges: true };
      await writeSpec(specPath, spec);
      const h = spawnExec(shimBinary, specPath);
      const chunks: OutputMessage[] = [];
      h.on('output', (m) => chunks.push(m));
      const { pid, startTime } = await h.started;
      assert.ok(pid > 0);
      assert.ok(startTime !== undefined && startTime > 0, 'the shim sends the process\'s start time with its pid');
      const exit = await h.exited;
      const stdout = Buffer.concat(chunks.filter((m) => m.stream === 'stdout').map((m) => m.data)).toString();
      const stderr = Buffer.concat(chunks.filter((m) => m.stream === 'stderr').map((m) => m.data)).toString();
      assert.match(stdout, /^box$/m);
      assert.match(stdout, /^\s*1 sleep 1000$/m, 'sees the container init as pid 1');
      assert.match(stdout, /^\/app$/m);
      assert.match(stdout, /^foo=bar$/m);
      assert.match(stdout, line('/'), 'the exec is in the container cgroup, the root of its cgroup namespace');
      assert.match(stdout, /^uid=65534\(nobody\) gid=65534\(nogroup\)/m);
      assert.match(stdout, /^NoNewPrivs:\s+1$/m, 'no-new-privs 1 in the spec');
      assert.equal(stderr, 'e\n');
      assert.equal(exit.exitCode, 5);
    } finally {
      await stop(c);
      await waitFor(() => readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim() === '');
      rmdirSync(dir);
    }
  });

  it('reports 127 for a missing command and supports a tty with stdin', async () => {
    const c = await run(baseSpec(['sleep', '1000']));
    try {
      const missingPath = join(c.bundle, 'exec-missing.spec');
      await writeSpec(missingPath, { pid: c.initPid, args: ['nope'], env: ['PATH=/bin'] });
      const missing = spawnExec(shimBinary, missingPath);
      await assert.rejects(missing.started, (err: unknown) => err instanceof ShimStartError && err.exitCode === 127 && /executable file not found in \$PATH/.test(err.message));
      assert.equal((await missing.exited).exitCode, 127);
      // With its shim named (the daemon always names it), an exec joins the init only while the pid
      // is still that shim's child: named as another process's (a pid reused since), it is refused.
      const checkedPath = join(c.bundle, 'exec-checked.spec');
      await writeSpec(checkedPath, { pid: c.initPid, parent: c.shimPid, args: ['sh', '-c', 'exit 0'], env: ['PATH=/bin'] });
      const checked = spawnExec(shimBinary, checkedPath);
      assert.ok((await checked.started).pid > 0);
      assert.equal((await checked.exited).exitCode, 0);
      const wrongPath = join(c.bundle, 'exec-wrong-parent.spec');
      await writeSpec(wrongPath, { pid: c.initPid, parent: process.pid, args: ['sh', '-c', 'exit 0'], env: ['PATH=/bin'] });
      const wrong = spawnExec(shimBinary, wrongPath);
      await assert.rejects(wrong.started, (err: unknown) => err instanceof ShimStartError && /not its init \(its parent is \d+, not its shim \d+\)/.test(err.message));
      await wrong.exited;

      const ttyPath = join(c.bundle, 'exec-tty.spec');
      await writeSpec(ttyPath, { pid: c.initPid, args: ['sh', '-c', 'tty; stty size; read x; echo "got $x"'], env: ['PATH=/bin'], tty: true, stdin: true, rows: 33, cols: 77 });
      const h = spawnExec(shimBinary, ttyPath);
      const chunks: Buffer[] = [];
      h.on('output', (m) => chunks.push(m.data));
      await h.started;
      h.stdin(Buffer.from('hello\n'));
      const exit = await h.exited;
      const out = Buffer.concat(chunks).toString();
      assert.match(out, /^\/dev\/pts\/0\r$/m);
      assert.match(out, /33 77/);
      assert.match(out, /got hello/);
      assert.equal(exit.exitCode, 0);

      // stdin and its close in one read (echo x | docker exec -i): the close waits for the data.
      const pipePath = join(c.bundle, 'exec-pipe.spec');
      await writeSpec(pipePath, { pid: c.initPid, args: ['sh', '-c', 'cat; echo eof'], env: ['PATH=/bin'], stdin: true });
      const piped = spawnExec(shimBinary, pipePath);
      const pipedOut: Buffer[] = [];
      piped.on('output', (m) => pipedOut.push(m.data));
      await piped.started;
      piped.stdin(Buffer.from('x\n'));
      piped.closeStdin();
      assert.equal((await piped.exited).exitCode, 0);
      assert.equal(Buffer.concat(pipedOut).toString(), 'x\neof\n');
    } finally {
      await stop(c);
    }
  });

  it('a tty comes only from the container\'s devpts ptmx: a /dev/ptmx replaced by a link to a host path, a FIFO or another node is a clear error, the host untouched', async () => {
    // A FIFO on the host with a writer blocked in its open: anything that opens the FIFO to read (the
    // shim following the container's link on the host's side) releases the writer.
    const hostFifo = join(scratch, `host-fifo-${randomBytes(3).toString('hex')}`);
    execFileSync('mkfifo', [hostFifo]);
    const writer = spawn('sh', ['-c', `echo touched > ${hostFifo}`], { stdio: 'ignore' });
    const c = await run(baseSpec(['sleep', '1000']));
    try {
      const inContainer = async (name: string, script: string): Promise<void> => {
        const path = join(c.bundle, `exec-${name}.spec`);
        await writeSpec(path, { pid: c.initPid, parent: c.shimPid, args: ['sh', '-c', script], env: ['PATH=/bin'] });
        const h = spawnExec(shimBinary, path);
        await h.started;
        assert.equal((await h.exited).exitCode, 0, `${name}: ${script}`);
      };
      const ttyExec = async (name: string): Promise<{ started: Promise<StartedMessage>; exited: Promise<ExitMessage> }> => {
        const path = join(c.bundle, `exec-tty-${name}.spec`);
        await writeSpec(path, { pid: c.initPid, parent: c.shimPid, args: ['tty'], env: ['PATH=/bin'], tty: true });
        const h = spawnExec(shimBinary, path);
        return { started: h.started, exited: h.exited };
      };
      const refused = async (name: string, reason: RegExp): Promise<void> => {
        const h = await ttyExec(name);
        await assert.rejects(h.started, (err: unknown) => err instanceof ShimStartError && err.exitCode === 125 && reason.test(err.message), name);
        await h.exited;
      };
      await inContainer('link', `rm /dev/ptmx && ln -s ${hostFifo} /dev/ptmx`);
      await refused('link', /open the container's \/dev\/ptmx .*No such file or directory/);
      await inContainer('fifo', 'rm /dev/ptmx && mkfifo /dev/ptmx');
      await refused('fifo', /the container's \/dev\/ptmx is a FIFO, not its devpts ptmx/);
      await inContainer('null', 'rm /dev/ptmx && mknod /dev/ptmx c 1 3');
      await refused('null', /the container's \/dev\/ptmx is the character device 1:3, not its devpts ptmx/);
      await inContainer('outside', 'rm /dev/ptmx && mknod /dev/ptmx c 5 2');
      await refused('outside', /the container's \/dev\/ptmx is the character device 5:2 outside devpts, not its devpts ptmx/);
      assert.equal(alive(writer.pid!), true, 'nothing opened the host\'s FIFO');
      // Put back as the shim made it (an absolute link resolves inside the container too): a tty again.
      await inContainer('restore', 'rm /dev/ptmx && ln -s /dev/pts/ptmx /dev/ptmx');
      const ok = await ttyExec('restored');
      assert.ok((await ok.started).pid > 0);
      assert.equal((await ok.exited).exitCode, 0);
    } finally {
      writer.kill('SIGKILL');
      rmSync(hostFifo, { force: true });
      await stop(c);
    }
  });

  it('enters the container\'s root, not its namespace\'s root mount, when the shim runs in a chroot', async () => {
    // A daemon in a chroot (a build root, CI in a chroot): the shims then run with a root that is
    // not the root mount of their mount namespace. A wrapper runs the shim so: a private mount
    // namespace whose root is / bound recursively at `top`, chrooted into it (every path the same).
    // Joining the container's mount namespace alone would land in that namespace's root mount,
    // the host's /; exec must land in the container's root.
    const top = mkdtempSync(join(process.env.TINY_DOCKER_TEST_SCRATCH ?? tmpdir(), 'chroot-top-'));
    const wrapper = join(scratch, 'chrooted-shim');
    writeFileSync(wrapper, `#!/bin/sh\nexec unshare --mount --propagation private sh -c 'mount --rbind / "$0" && exec chroot "$0" "$@"' '${top}' '${shimBinary}' "$@"\n`, { mode: 0o755 });
    try {
      const bundle = newBundle();
      await writeSpec(join(bundle, 'spec'), baseSpec(['sleep', '1000']));
      const started = await startShim(wrapper, bundle);
      shimPids.add(started.shimPid);
      const c = { ...started, bundle };
      try {
        const specPath = join(bundle, 'exec-root.spec');
        await writeSpec(specPath, { pid: c.initPid, args: ['sh', '-c', 'ls /; cat /etc/not-executable'], env: ['PATH=/bin'] });
        const h = spawnExec(wrapper, specPath);
        const chunks: Buffer[] = [];
        h.on('output', (m) => chunks.push(m.data));
        await h.started;
        const exit = await h.exited;
        const out = Buffer.concat(chunks).toString();
        assert.equal(exit.exitCode, 0, out);
        assert.match(out, /^data$/m, 'the rootfs file is there');
        assert.doesNotMatch(out, /^(usr|lib|sbin)$/m, `the host's root is not: ${out}`);
      } finally {
        await stop(c);
      }
    } finally {
      rmdirSync(top); // empty here: the binds lived in the wrappers' own mount namespaces
    }
  });
});
