import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, TestDaemon, runCommand, until } from './harness.js';
import { assertStillServing } from './attack-support.js';
import { containerCgroupDirs } from './kernel-agreement.js';

/** The syscalls Docker's default profile denies that the probe tries (test/fixtures/syscall-probe.c). */
const DENIED = [
  'keyctl', 'add_key', 'request_key', 'unshare-user', 'unshare-mount', 'clone-newuser', 'setns', 'mount', 'umount2', 'pivot_root',
  'syslog', 'kexec_load', 'init_module', 'delete_module', 'bpf', 'perf_event_open', 'userfaultfd', 'io_uring_setup',
  'open_by_handle_at', 'reboot', 'settimeofday', 'acct', 'swapoff', 'personality-no-aslr', 'process_vm_readv',
] as const;

/**
 * Those the default capability set would not already refuse with EPERM: unconfined, each gives
 * something else (success, EINVAL, ENOSYS, EBADF…), so their EPERM in a default container is the
 * filter's doing, not the capabilities'.
 */
const FILTER_ONLY = [
  'keyctl', 'add_key', 'request_key', 'unshare-user', 'clone-newuser', 'setns', 'init_module', 'delete_module', 'bpf',
  'perf_event_open', 'io_uring_setup', 'open_by_handle_at', 'personality-no-aslr', 'process_vm_readv',
] as const;

const EPERM = 1;

function parseProbe(stdout: string): Map<string, string> {
  return new Map(stdout.trim().split('\n').map((line) => {
    const [name, result] = line.split(' ');
    return [name ?? '', result ?? ''];
  }));
}

/**
 * The attack suite, inside containers: the syscalls the default seccomp profile denies, a fork
 * bomb under --pids-limit and a memory bomb under -m while another container keeps answering.
 * After each group the daemon still serves (docs/security.md, "The attack suite").
 */
describe('e2e: attacks from inside a container', { timeout: 240_000 }, () => {
  const d = new TestDaemon('attack-container');
  let probeDir = '';

  before(async () => {
    probeDir = join(d.root, 'probe');
    await mkdir(probeDir);
    const cc = await runCommand('gcc', ['-static', '-O1', '-Wall', '-Werror', '-o', join(probeDir, 'probe'), join(REPO_ROOT, 'test', 'fixtures', 'syscall-probe.c')]);
    assert.equal(cc.code, 0, `building the syscall probe failed: ${cc.stderr}`);
    await d.start();
    const neighbour = await d.cli(['run', '-d', '--name', 'neighbour', 'busybox', 'sh', '-c', 'while true; do sleep 1; done']);
    assert.equal(neighbour.code, 0, neighbour.stderr);
  });
  after(() => d.cleanup());

  /** The neighbour container still runs and answers an exec. */
  const assertNeighbourAnswers = async (context: string): Promise<void> => {
    const r = await d.cli(['exec', 'neighbour', 'echo', 'alive']);
    assert.equal(r.stdout, 'alive\n', `${context}: the neighbour did not answer: ${r.stderr}`);
  };

  it('every syscall the default profile denies fails with EPERM, through the filter (unconfined they do not)', async () => {
    const bind = ['-v', `${probeDir}:/probe:ro`];
    const confined = await d.cli(['run', '--rm', ...bind, 'busybox', '/probe/probe', ...DENIED]);
    assert.equal(confined.code, 0, confined.stderr);
    const results = parseProbe(confined.stdout);
    for (const name of DENIED) assert.equal(results.get(name), String(EPERM), `${name} in a default container: ${confined.stdout}`);

    const unconfined = await d.cli(['run', '--rm', '--security-opt', 'seccomp=unconfined', ...bind, 'busybox', '/probe/probe', ...FILTER_ONLY]);
    assert.equal(unconfined.code, 0, unconfined.stderr);
    const open = parseProbe(unconfined.stdout);
    for (const name of FILTER_ONLY) assert.notEqual(open.get(name), String(EPERM), `${name} unconfined should not be EPERM: ${unconfined.stdout}`);

    // The same through an exec into a running container.
    const exec = await d.cli(['run', '-d', '--name', 'probed', ...bind, 'busybox', 'sleep', '60']);
    assert.equal(exec.code, 0, exec.stderr);
    const inExec = await d.cli(['exec', 'probed', '/probe/probe', ...DENIED]);
    assert.equal(inExec.code, 0, inExec.stderr);
    for (const [name, result] of parseProbe(inExec.stdout)) assert.equal(result, String(EPERM), `${name} in an exec`);
    assert.equal((await d.cli(['rm', '-f', 'probed'])).code, 0);
    await assertStillServing(d, 'after the syscall probes');
  });

  it('masked kernel files read empty; writes to /proc/sys, /proc/irq, /proc/sysrq-trigger and /sys are refused', async () => {
    const masked = ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug'].filter((f) => hostReadsSomething(f));
    const readOnly = ['/proc/sys/kernel/domainname', '/proc/sys/vm/drop_caches', '/proc/irq/default_smp_affinity', '/proc/sysrq-trigger',
      '/sys/class/net/lo/mtu', '/sys/kernel/mm/transparent_hugepage/enabled'];
    // Opening for writing and writing nothing: refused when read-only, harmless if it were not.
    const script = [
      ...masked.map((f) => `echo "${f} $(head -c 64 ${f} | wc -c)"`),
      ...readOnly.map((f) => `[ -e ${f} ] && { (true > ${f}) 2>/dev/null && echo "${f} writable" || echo "${f} refused: $( (true > ${f}) 2>&1 | sed 's/.*: //')"; }`),
      'true',
    ].join('; ');
    const r = await d.cli(['run', '--rm', 'busybox', 'sh', '-c', script]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.ok(masked.length >= 1 && lines.length >= masked.length + 3, `too little was tried: ${r.stdout}`);
    for (const f of masked) assert.ok(lines.includes(`${f} 0`), `${f} is not masked: ${r.stdout}`);
    for (const line of lines.slice(masked.length)) assert.match(line, / refused: Read-only file system$/, r.stdout);
    await assertStillServing(d, 'after the masked and read-only paths');
  });

  it('raw devices made with mknod (the host\'s disk, /dev/kmsg, /dev/mem) cannot be opened: the device cgroup says no', async () => {
    const disk = ['/dev/vda', '/dev/sda', '/dev/nvme0n1'].map((p) => statSync(p, { throwIfNoEntry: false })).find((st) => st?.isBlockDevice());
    const nodes: [string, string, number, number][] = [['kmsg', 'c', 1, 11], ['mem', 'c', 1, 1]];
    if (disk) nodes.push(['disk', 'b', Math.floor(disk.rdev / 256), disk.rdev % 256]);
    const run = await d.cli(['run', '-d', '--name', 'mknoder', 'busybox', 'sleep', '600']);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    // The engine's rules, not the host's: the container's own device cgroup (v1) allows none of them.
    const list = containerCgroupDirs(id).map((dir) => join(dir, 'devices.list')).find((f) => existsSync(f));
    if (list) {
      const rules = readFileSync(list, 'utf8').split('\n');
      assert.ok(!rules.includes('a *:* rwm'), `the device cgroup allows everything: ${rules.join(', ')}`);
      for (const [, type, major, minor] of nodes) assert.ok(!rules.some((r) => r.startsWith(`${type} ${major}:${minor} `) || r === `${type} ${major}:* rwm`), `${type} ${major}:${minor} is allowed`);
    }
    const script = nodes.map(([name, type, major, minor]) => `mknod /${name} ${type} ${major} ${minor} && { head -c 1 /${name} >/dev/null 2>&1 && echo "${name} opened" || echo "${name} refused: $(head -c 1 /${name} 2>&1 >/dev/null | sed 's/.*: //')"; }`).join('; ');
    const r = await d.cli(['exec', 'mknoder', 'sh', '-c', script]);
    assert.equal(r.stdout, nodes.map(([name]) => `${name} refused: Operation not permitted\n`).join(''), r.stderr);
    assert.equal((await d.cli(['rm', '-f', 'mknoder'])).code, 0);
    await assertStillServing(d, 'after mknod');
  });

  it('a fork bomb under --pids-limit 50 stays at 50 processes while the neighbour answers; rm -f ends it', async () => {
    const bomb = await d.cli(['run', '-d', '--name', 'forkbomb', '--pids-limit', '50', 'busybox', 'sh', '-c', 'b() { b | b & }; b; sleep 3600']);
    assert.equal(bomb.code, 0, bomb.stderr);
    const id = bomb.stdout.trim();
    const pidsDir = containerCgroupDirs(id).find((dir) => existsSync(join(dir, 'pids.max')));
    assert.ok(pidsDir, `no pids cgroup for ${id}`);
    assert.equal(readFileSync(join(pidsDir, 'pids.max'), 'utf8').trim(), '50');
    // The limit was hit (forks refused), and never exceeded.
    await until('the fork bomb to hit its pids limit', () => (Number(readPidsEvents(pidsDir)) > 0 ? true : undefined), 30_000);
    assert.ok(Number(readFileSync(join(pidsDir, 'pids.current'), 'utf8')) <= 50);
    await assertNeighbourAnswers('during the fork bomb');
    const rm = await d.cli(['rm', '-f', 'forkbomb']);
    assert.equal(rm.code, 0, rm.stderr);
    await assertNeighbourAnswers('after the fork bomb');
    await assertStillServing(d, 'after the fork bomb');
  });

  it('a memory bomb under -m 32m is OOM-killed (exit 137, OOMKilled) while the neighbour answers', async () => {
    const bomb = await d.cli(['run', '--name', 'membomb', '-m', '32m', 'busybox', 'tail', '/dev/zero']);
    assert.equal(bomb.code, 137, bomb.stderr);
    const state = await d.cli(['inspect', '-f', '{{.State.OOMKilled}} {{.State.ExitCode}}', 'membomb']);
    assert.equal(state.stdout, 'true 137\n', state.stderr);
    await assertNeighbourAnswers('after the memory bomb');
    assert.equal((await d.cli(['rm', 'membomb'])).code, 0);
    await assertStillServing(d, 'after the memory bomb');
  });
});

/** Whether the host can read at least a byte of `path` (a masked path is worth checking only then). */
function hostReadsSomething(path: string): boolean {
  try {
    const fd = openSync(path, 'r');
    try {
      return readSync(fd, Buffer.alloc(1), 0, 1, null) === 1;
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** pids.events' "max" count: how many forks the limit refused. */
function readPidsEvents(dir: string): string {
  const line = readFileSync(join(dir, 'pids.events'), 'utf8').split('\n').find((l) => l.startsWith('max '));
  return line?.split(' ')[1] ?? '0';
}
