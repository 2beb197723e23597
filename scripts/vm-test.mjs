#!/usr/bin/env node
// Runs a command inside a User-Mode Linux guest: Debian's own kernel (package user-mode-linux) as an
// ordinary process, booted with cgroup_no_v1=all, so the guest has a pure cgroup v2 hierarchy with
// the cpu, io, memory and pids controllers whatever this host uses. The project folder is shared
// read-only at the same path (hostfs), the command runs as root in a cgroup delegated the way
// systemd delegates a service's, and the exit status is the command's. See docs/testing.md.
//
//   scripts/vm-test [--controllers memory,pids] [--] COMMAND [ARGS...]
//
// The guest image (the UML kernel and a minbase Debian root with the host's node) is built once and
// cached under $TINY_DOCKER_VM_CACHE (default /var/cache/tiny-docker/vm), in a folder named after a
// hash of its recipe, so a changed recipe builds a new one. Exit 77 (and one line saying why) where
// the guest cannot run: not root, not x86-64 Linux, a missing tool, or no way to fetch the packages.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync,
  statSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { clearTimeout, setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';

export const SKIP_EXIT = 77;
const PROJECT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CACHE = process.env.TINY_DOCKER_VM_CACHE ?? '/var/cache/tiny-docker/vm';
const PACKAGES = ['busybox-static', 'gcc', 'libc6-dev', 'make', 'attr', 'procps', 'iproute2', 'kmod', 'util-linux', 'mount'];
const SUITE = 'bookworm';
const IMAGE_SIZE = '6G'; // sparse: the tests' images, layers and scratch files live on this disk
const GUEST_MEMORY = process.env.TINY_DOCKER_VM_MEMORY ?? '1536M';
const TIMEOUT_S = Number(process.env.TINY_DOCKER_VM_TIMEOUT ?? 900);
const START_MARK = '== vm-test: command starts';
const END_MARK = '== vm-test: command ended';

/** PID 1 of the guest: mounts, a systemd-like cgroup v2 tree, the shared folders, the command, power off. */
const INIT = `#!/bin/sh
# PID 1 of the tiny-docker test guest (written by scripts/vm-test.mjs). Kernel parameters it reads
# (as environment): vmtest_run (the host folder with the command and where the status goes),
# vmtest_project (the project folder, shared read-only), vmtest_controllers (delegated controllers).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup
stty -F /dev/console -onlcr 2>/dev/null
hostname tiny-docker-vm
ip link set lo up
modprobe overlay
# As systemd does: init in /init.scope, the command in a service under system.slice that is
# delegated the controllers asked for (all by default).
mkdir /sys/fs/cgroup/init.scope /sys/fs/cgroup/system.slice /sys/fs/cgroup/system.slice/vm-test.service
echo $$ > /sys/fs/cgroup/init.scope/cgroup.procs
wanted="\${vmtest_controllers:-$(cat /sys/fs/cgroup/cgroup.controllers)}"
for c in $(echo "$wanted" | tr ',' ' '); do
  echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control && echo "+$c" > /sys/fs/cgroup/system.slice/cgroup.subtree_control
done
mkdir -p "$vmtest_run" "$vmtest_project"
mount -t hostfs -o "$vmtest_run" none "$vmtest_run"
mount -t hostfs -o "ro,$vmtest_project" none "$vmtest_project"
echo "${START_MARK}" > /dev/console
sh -c 'echo $$ > /sys/fs/cgroup/system.slice/vm-test.service/cgroup.procs && exec sh "$1"' sh "$vmtest_run/command" </dev/null >/dev/console 2>&1
echo $? > "$vmtest_run/status.tmp" && mv "$vmtest_run/status.tmp" "$vmtest_run/status"
echo "${END_MARK}" > /dev/console
sync
umount "$vmtest_run"
busybox poweroff -f
`;

class Skip extends Error {}

function log(message) {
  process.stderr.write(`vm-test: ${message}\n`);
}

function sh(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...options });
  if (r.error) throw new Skip(`${cmd} cannot run (${r.error.message}): install it (scripts/debian-packages.sh)`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed with ${r.status}:\n${(r.stderr || r.stdout || '').trim().split('\n').slice(-15).join('\n')}`);
  return r.stdout;
}

function hasCommand(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** The recipe's hash: what goes into the image. A change to any of it builds a new image. */
function recipeKey() {
  const node = statSync(process.execPath);
  const recipe = JSON.stringify({ PACKAGES, SUITE, IMAGE_SIZE, INIT, node: [process.version, node.size, node.mtimeMs] });
  return createHash('sha256').update(recipe).digest('hex').slice(0, 16);
}

/** Builds the guest (kernel + root disk) into <cache>/<key> unless it is there; returns the folder. */
function ensureImage() {
  const dir = join(CACHE, recipeKey());
  if (existsSync(join(dir, 'ready'))) return dir;
  for (const tool of ['apt-get', 'dpkg-deb', 'mmdebstrap', 'mkfs.ext4']) {
    if (!hasCommand(tool)) throw new Skip(`no ${tool} on this host: install it (scripts/debian-packages.sh lists mmdebstrap and e2fsprogs)`);
  }
  mkdirSync(CACHE, { recursive: true });
  const work = mkdtempSync(join(CACHE, 'build-'));
  log(`building the guest image in ${dir} (once; about a minute)`);
  try {
    try {
      sh('apt-get', ['download', 'user-mode-linux'], { cwd: work });
    } catch (e) {
      throw new Skip(`cannot download the Debian package user-mode-linux (${String(e.message).split('\n').pop()})`);
    }
    const deb = readdirSync(work).find((f) => f.startsWith('user-mode-linux_') && f.endsWith('.deb'));
    if (deb === undefined) throw new Skip('apt-get download user-mode-linux gave no .deb');
    sh('dpkg-deb', ['-x', join(work, deb), join(work, 'uml')]);
    const rootfs = join(work, 'rootfs');
    try {
      sh('mmdebstrap', ['--quiet', '--variant=minbase', `--include=${PACKAGES.join(',')}`, SUITE, rootfs]);
    } catch (e) {
      if (e instanceof Skip) throw e;
      throw new Skip(`mmdebstrap cannot build the guest's root (${String(e.message).split('\n').slice(-3).join(' ')})`);
    }
    copyFileSync(process.execPath, join(rootfs, 'usr/bin/node'));
    chmodSync(join(rootfs, 'usr/bin/node'), 0o755);
    cpSync(join(work, 'uml/usr/lib/uml/modules'), join(rootfs, 'usr/lib/modules'), { recursive: true });
    writeFileSync(join(rootfs, 'usr/sbin/tiny-docker-vm-init'), INIT, { mode: 0o755 });
    writeFileSync(join(rootfs, 'etc/hostname'), 'tiny-docker-vm\n');
    rmSync(join(rootfs, 'var/cache/apt/archives'), { recursive: true, force: true });
    const out = join(work, 'out');
    mkdirSync(out);
    sh('mkfs.ext4', ['-q', '-F', '-L', 'tiny-docker-vm', '-d', rootfs, join(out, 'rootfs.img'), IMAGE_SIZE]);
    renameSync(join(work, 'uml/usr/bin/linux.uml'), join(out, 'linux.uml'));
    writeFileSync(join(out, 'recipe.json'), JSON.stringify({ PACKAGES, SUITE, IMAGE_SIZE, node: process.version, uml: deb }, null, 2));
    writeFileSync(join(out, 'ready'), '');
    try {
      renameSync(out, dir);
    } catch (e) {
      if (!existsSync(join(dir, 'ready'))) throw e; // another run built it meanwhile
    }
    // Images of older recipes are of no more use (a guest still running one keeps its open files).
    for (const name of readdirSync(CACHE)) {
      if (/^[0-9a-f]{16}$/.test(name) && name !== basename(dir)) rmSync(join(CACHE, name), { recursive: true, force: true });
    }
    return dir;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Boots the guest, runs `argv` there in `cwd`, streams its output; resolves to its exit status. */
function runInGuest(image, argv, cwd, controllers, env) {
  const run = mkdtempSync(join(tmpdir(), 'tiny-docker-vm-'));
  const quoted = (s) => `'${s.replaceAll("'", "'\\''")}'`;
  const exports = Object.entries(env).map(([k, v]) => `export ${k}=${quoted(v)}\n`).join('');
  writeFileSync(join(run, 'command'), `${exports}cd ${quoted(cwd)} || exit 1\nexec ${argv.map(quoted).join(' ')}\n`);
  const args = [
    `mem=${GUEST_MEMORY}`, `ubd0=${join(run, 'cow')},${join(image, 'rootfs.img')}`, 'root=/dev/ubda', 'rw',
    'init=/usr/sbin/tiny-docker-vm-init', 'con=null', 'ssl=null', 'con0=null,fd:1', 'quiet', 'loglevel=2',
    'cgroup_no_v1=all', 'psi=1', `uml_dir=${run}`, 'umid=vm',
    `vmtest_run=${run}`, `vmtest_project=${PROJECT}`, ...(controllers ? [`vmtest_controllers=${controllers}`] : []),
  ];
  const child = spawn(join(image, 'linux.uml'), args, {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TMPDIR: '/dev/shm' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
  });
  let state = 'boot';
  let pending = '';
  let bootLog = '';
  const onOut = (chunk) => {
    pending += chunk;
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl + 1);
      pending = pending.slice(nl + 1);
      if (state === 'boot') {
        if (line.startsWith(START_MARK)) state = 'command';
        else bootLog += line;
      } else if (state === 'command') {
        if (line.startsWith(END_MARK)) state = 'done';
        else process.stdout.write(line);
      }
    }
  };
  // A command that hangs must not hang its caller: the whole guest goes after the time limit.
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
  }, TIMEOUT_S * 1000);
  // Interrupted (Ctrl-C, a killed test run): the guest, a process group of its own, goes too.
  const stopGuest = (signal) => {
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
    rmSync(run, { recursive: true, force: true });
    process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
  };
  process.once('SIGINT', stopGuest).once('SIGTERM', stopGuest);
  child.stdout.setEncoding('utf8').on('data', onOut);
  child.stderr.setEncoding('utf8').on('data', (d) => { bootLog += d; });
  return new Promise((resolvePromise) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      process.off('SIGINT', stopGuest).off('SIGTERM', stopGuest);
      if (state === 'command' && pending !== '') process.stdout.write(pending);
      // The guest's helper processes share the group: none may outlive it.
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* all gone */ }
      let status = null;
      try { status = Number(readFileSync(join(run, 'status'), 'utf8').trim()); } catch { /* the command never ended */ }
      rmSync(run, { recursive: true, force: true });
      if (timedOut) {
        log(`the command ran past ${TIMEOUT_S} s (TINY_DOCKER_VM_TIMEOUT): the guest was killed`);
        resolvePromise(124);
        return;
      }
      if (status === null || Number.isNaN(status)) {
        log(`the guest stopped (${signal ?? `exit ${code}`}) before the command ended${state === 'boot' ? `; its boot said:\n${bootLog.trim().split('\n').slice(-20).join('\n')}` : ''}`);
        resolvePromise(state === 'boot' ? SKIP_EXIT : 1);
        return;
      }
      resolvePromise(status);
    });
  });
}

/** Runs argv in the guest (building the image if needed); resolves to its exit status (77 = skipped). */
export async function vmTest(argv, { cwd = PROJECT, controllers = '', env = {} } = {}) {
  try {
    if (process.platform !== 'linux' || process.arch !== 'x64') throw new Skip(`User-Mode Linux runs here only on x86-64 Linux, not ${process.platform}/${process.arch}`);
    if (process.getuid?.() !== 0) throw new Skip('not root: building the guest image (mmdebstrap) and the tests in it need root');
    if (!existsSync('/dev/shm')) throw new Skip('no /dev/shm for the guest memory');
    const image = ensureImage();
    return await runInGuest(image, argv, cwd, controllers, env);
  } catch (e) {
    if (e instanceof Skip) {
      log(`skipped: ${e.message}`);
      return SKIP_EXIT;
    }
    throw e;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let args = process.argv.slice(2);
  let controllers = '';
  if (args[0] === '--controllers') {
    controllers = args[1] ?? '';
    args = args.slice(2);
  }
  if (args[0] === '--') args = args.slice(1);
  if (args.length === 0) {
    log('usage: scripts/vm-test [--controllers memory,pids] [--] COMMAND [ARGS...]');
    process.exit(2);
  }
  // The guest has its own /tmp: a host scratch folder means nothing there.
  // Output goes through the guest's console (a tty there): colours only when it ends on a terminal here.
  const colour = process.stdout.isTTY ? {} : { NO_COLOR: '1' };
  const pass = Object.fromEntries(Object.entries(process.env).filter(([k]) => /^(TINY_DOCKER_|MINI_DOCKER_|NODE_OPTIONS$|TERM$)/.test(k) && k !== 'TINY_DOCKER_TEST_SCRATCH'));
  const here = process.cwd();
  const cwd = here === PROJECT || here.startsWith(`${PROJECT}/`) ? here : PROJECT;
  process.exit(await vmTest(args, { cwd, controllers, env: { ...pass, ...colour } }));
}
