import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DAEMON, TestDaemon, runCommand } from './harness.js';
import { containerCgroupDirs } from './kernel-agreement.js';

const SUBUID = '/etc/subuid';
const SUBGID = '/etc/subgid';

/** The user's line in /etc/passwd, or undefined. */
function userExists(name: string): boolean {
  return readFileSync('/etc/passwd', 'utf8').split('\n').some((l) => l.startsWith(`${name}:`));
}

/** Removes `name`'s lines from a subordinate id file, leaving every other line as it is. */
function dropRanges(path: string, name: string): void {
  if (!existsSync(path)) return;
  const kept = readFileSync(path, 'utf8').split('\n').filter((l) => !l.startsWith(`${name}:`));
  writeFileSync(path, kept.join('\n'));
}

/** A user of the test's own with ranges in /etc/subuid and /etc/subgid; `remove` undoes all of it. */
async function makeRemapUser(name: string, start: number): Promise<void> {
  const made = await runCommand('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', '--user-group', name]);
  assert.equal(made.code, 0, `useradd ${name}: ${made.stderr}`);
  for (const file of [SUBUID, SUBGID]) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    writeFileSync(file, `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${name}:${start}:65536\n`);
  }
}

async function removeRemapUser(name: string): Promise<void> {
  if (userExists(name)) await runCommand('userdel', [name]);
  dropRanges(SUBUID, name);
  dropRanges(SUBGID, name);
}

/** uid and gid lines of /proc/PID/status: "Uid: real effective saved fs". */
function hostIds(pid: number): { uid: number; gid: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1]);
  return { uid: field('Uid'), gid: field('Gid') };
}

/**
 * User namespaces (issue 14, item 3): mini-dockerd --userns-remap USER maps every container's
 * root to USER's first subordinate ids; `id` inside says root, the host sees the unprivileged
 * uid, a root-owned host file bound in cannot be changed, what the container's root writes is
 * stored as root in its layer (commit keeps it), and --userns host opts a container out.
 * `default` makes the mini-docker user and its ranges (docs/security.md, "User namespaces").
 */
describe('e2e: --userns-remap', { timeout: 180_000 }, () => {
  const user = `mdt-${randomBytes(3).toString('hex')}`;
  const start = 300000 + (randomBytes(2).readUInt16BE(0) % 64) * 65536;
  const d = new TestDaemon('userns');
  let hostFile = '';

  before(async () => {
    await makeRemapUser(user, start);
    d.daemonArgs = ['--userns-remap', user];
    await d.start();
    hostFile = join(d.root, 'root-owned.txt');
    writeFileSync(hostFile, 'original\n', { mode: 0o644 });
  });
  after(async () => {
    await d.cleanup();
    await removeRemapUser(user);
  });

  it('the container\'s root is root inside and the range\'s first uid on the host; a root-owned host file cannot be changed', async () => {
    const run = await d.cli(['run', '-d', '--name', 'mapped', '-v', `${hostFile}:/host-file`, 'busybox', 'sleep', '600']);
    assert.equal(run.code, 0, run.stderr);
    const pid = Number((await d.cli(['inspect', '-f', '{{.State.Pid}}', 'mapped'])).stdout.trim());
    assert.deepEqual(hostIds(pid), { uid: start, gid: start }, 'the host sees the range\'s first ids');
    const inside = await d.cli(['exec', 'mapped', 'sh', '-c', 'id; cat /proc/self/uid_map /proc/self/gid_map | tr -s " "; echo changed >> /host-file; echo "write=$?"']);
    assert.equal(inside.stdout, `uid=0(root) gid=0(root)\n 0 ${start} 65536\n 0 ${start} 65536\nwrite=1\n`, inside.stderr);
    assert.match(inside.stderr, /Permission denied/);
    assert.equal(readFileSync(hostFile, 'utf8'), 'original\n', 'the host file changed');
    // Its own files are its root's: made, changed, and committed as root-owned.
    const own = await d.cli(['exec', 'mapped', 'sh', '-c', 'echo mine > /etc/made && chown 1000:1000 /etc/made && echo yes >> /etc/passwd && stat -c "%u:%g" /etc/made']);
    assert.equal(own.stdout, '1000:1000\n', own.stderr);
    const commit = await d.cli(['commit', 'mapped', 'userns/committed:1']);
    assert.equal(commit.code, 0, commit.stderr);
    const committed = await d.cli(['run', '--rm', '--userns', 'host', 'userns/committed:1', 'sh', '-c', 'stat -c "%u:%g" /etc/made /etc/passwd; tail -n 1 /etc/passwd']);
    assert.equal(committed.stdout, '1000:1000\n0:0\nyes\n', committed.stderr);
    assert.equal((await d.cli(['inspect', '-f', '{{.HostConfig.UsernsMode}}', 'mapped'])).stdout, '\n');
    assert.equal((await d.cli(['rm', '-f', 'mapped'])).code, 0);
  });

  it('what the daemon writes for a remapped container is owned by the range: cp in (running and stopped), volumes named and anonymous, copy-up; cp out shows the container\'s ids', async () => {
    const cli = async (args: string[]): Promise<string> => {
      const r = await d.cli(args);
      assert.equal(r.code, 0, `mini-docker ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const mountpointOf = async (volume: string): Promise<string> => (await cli(['volume', 'inspect', '-f', '{{.Mountpoint}}', volume])).trim();
    const owner = (path: string): string => {
      const st = statSync(path);
      return `${st.uid}:${st.gid}`;
    };
    const base = `${start}:${start}`;
    const inFile = join(d.root, 'cp-in.txt');
    writeFileSync(inFile, 'copied\n', { mode: 0o644 });
    await cli(['volume', 'create', 'uvol']);
    await cli(['run', '-d', '--name', 'owners', '-v', 'uvol:/data', '-v', '/anon', '-v', 'etcvol:/etc2', 'busybox', 'sleep', '600']);
    const pid = Number((await cli(['inspect', '-f', '{{.State.Pid}}', 'owners'])).trim());

    await cli(['cp', inFile, 'owners:/tmp/']);
    assert.equal((await cli(['exec', 'owners', 'sh', '-c', 'ls -ln /tmp/cp-in.txt | tr -s " " | cut -d" " -f3,4'])).trim(), '0 0', 'cp into the container: root-owned inside');
    assert.equal(owner(`/proc/${pid}/root/tmp/cp-in.txt`), base, 'and the range\'s first ids on the host');

    // A volume the container's root writes: its root folder is the remapped root's, so it can.
    const written = await cli(['exec', 'owners', 'sh', '-c', 'echo hi > /data/f && echo a > /anon/f && stat -c "%u:%g" /data /data/f /anon/f']);
    assert.equal(written, '0:0\n0:0\n0:0\n');
    const uvol = await mountpointOf('uvol');
    assert.equal(owner(uvol), base, 'the volume root (volume create) is the remapped root\'s');
    assert.equal(owner(join(uvol, 'f')), base, 'what the container\'s root wrote is the base uid on the host');
    const mounts = JSON.parse(await cli(['inspect', '-f', '{{json .Mounts}}', 'owners'])) as { Name?: string; Destination: string; Source: string }[];
    const anon = mounts.find((m) => m.Destination === '/anon')!;
    assert.equal(owner(anon.Source), base, 'an anonymous volume\'s root too');
    assert.equal(owner(join(anon.Source, 'f')), base);

    // Copy-up (a volume the create made at a path the image has: busybox's /etc) shifts the image's owners.
    await cli(['run', '--rm', '-v', 'etccopy:/etc', 'busybox', 'true']);
    const etccopy = await mountpointOf('etccopy');
    assert.equal(owner(join(etccopy, 'passwd')), base, 'copy-up: the image\'s root-owned passwd is the range\'s root');
    assert.equal(owner(etccopy), base);
    assert.equal((await cli(['run', '--rm', '-v', 'etccopy:/etc', 'busybox', 'stat', '-c', '%u:%g', '/etc/passwd'])).trim(), '0:0', 'and root inside');
    // ... and so does the copy-up of an existing volume at its first mount.
    await cli(['volume', 'create', 'firstmount']);
    await cli(['run', '--rm', '-v', 'firstmount:/etc', 'busybox', 'true']);
    assert.equal(owner(join(await mountpointOf('firstmount'), 'group')), base);

    // cp into a running container's volume (a plain bind, not idmapped) and cp -a as its User.
    await cli(['cp', inFile, 'owners:/data/']);
    assert.equal(owner(join(uvol, 'cp-in.txt')), base, 'cp into a volume of a running container: the range\'s root');
    await cli(['run', '-d', '--name', 'as-user', '--user', '1000:1000', 'busybox', 'sleep', '600']);
    const userPid = Number((await cli(['inspect', '-f', '{{.State.Pid}}', 'as-user'])).trim());
    await cli(['cp', '-a', inFile, 'as-user:/tmp/']);
    assert.equal((await cli(['exec', 'as-user', 'sh', '-c', 'ls -ln /tmp/cp-in.txt | tr -s " " | cut -d" " -f3,4'])).trim(), '1000 1000', 'cp -a: the container\'s User');
    assert.equal(owner(`/proc/${userPid}/root/tmp/cp-in.txt`), `${start + 1000}:${start + 1000}`);
    await cli(['rm', '-f', 'as-user']);

    // cp out: the archive carries the container's ids (the tar header's uid field is octal at 108).
    const out = await d.cli(['cp', 'owners:/data/f', '-']);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(parseInt(out.stdout.slice(108, 116), 8), 0, 'cp out: uid 0 in the archive, as the container sees it');
    assert.equal(parseInt(out.stdout.slice(116, 124), 8), 0);

    // A stopped container: cp goes through its root view, with the same owners.
    await cli(['create', '--name', 'stopped-owners', 'busybox', 'ls', '-ln', '/cp-in.txt']);
    await cli(['cp', inFile, 'stopped-owners:/']);
    const listed = await cli(['start', '-a', 'stopped-owners']);
    assert.equal(listed.split(/\s+/).slice(2, 4).join(' '), '0 0', listed);
    // A missing host folder of -v is made by the start, for the remapped root (dockerd's MkdirAllAndChownNew).
    const made = join(d.root, 'made-by-start');
    assert.equal(await cli(['run', '--rm', '-v', `${made}/sub:/x`, 'busybox', 'sh', '-c', 'touch /x/f && stat -c "%u:%g" /x/f']), '0:0\n');
    assert.deepEqual([owner(made), owner(join(made, 'sub')), owner(join(made, 'sub', 'f'))], [base, base, base]);
    assert.equal(owner(d.root), '0:0', 'a folder that was there keeps its owner');
    await cli(['rm', '-f', 'owners', 'stopped-owners']);
    await cli(['volume', 'rm', 'uvol', 'etcvol', 'etccopy', 'firstmount']);
    await cli(['volume', 'prune', '-f']);
  });

  it('cp of a folder into a running remapped container while a host process swaps the folder below the target for a symlink to a host folder and back in a tight loop: nothing lands on the host', async () => {
    // The freeze holds the container's processes, not the host's nor another container's sharing
    // the volume: a host process swaps /sv/dir/sub (in the volume's folder on the host), where
    // the copy's entries go, for a link to a world-writable host folder and back while copies
    // run. The copy's file operations are made from inside the container's root
    // (mini-docker-cproot), so the link leads to the container's own (missing) folder of that
    // name: a copy fails or lands inside the container.
    const hostDir = mkdtempSync(join(tmpdir(), 'mdt-escape-'));
    chmodSync(hostDir, 0o777);
    const name = `escape-${randomBytes(4).toString('hex')}`;
    const source = join(d.root, 'swap-source', 'sub');
    mkdirSync(source, { recursive: true });
    for (let i = 0; i < 300; i++) writeFileSync(join(source, `${name}-${i}`), 'copied\n');
    let swapper: ReturnType<typeof spawn> | undefined;
    try {
      assert.equal((await d.cli(['run', '-d', '--name', 'cp-target', '-v', 'swapvol:/sv', 'busybox', 'sh', '-c', 'mkdir -p /sv/dir/sub && exec sleep 600'])).code, 0);
      const mountpoint = (await d.cli(['volume', 'inspect', '-f', '{{.Mountpoint}}', 'swapvol'])).stdout.trim();
      const dir = join(mountpoint, 'dir', 'sub');
      for (let i = 0; i < 200 && !existsSync(dir); i++) await new Promise((r) => setTimeout(r, 25));
      const script = `const fs = require('node:fs');
const [dir, host] = [${JSON.stringify(dir)}, ${JSON.stringify(hostDir)}];
let swaps = 0, stop = false;
process.stdin.on('end', () => { stop = true; }).resume();
function round() {
  for (let i = 0; i < 100 && !stop; i++) {
    try { fs.renameSync(dir, dir + '.real'); fs.symlinkSync(host, dir); swaps++; fs.unlinkSync(dir); fs.renameSync(dir + '.real', dir); } catch {}
  }
  if (stop) process.stdout.write(String(swaps)); else setImmediate(round);
}
round();`;
      swapper = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
      const swaps = new Promise<number>((resolve) => {
        let out = '';
        swapper!.stdout!.setEncoding('utf8').on('data', (t: string) => { out += t; });
        swapper!.on('close', () => resolve(Number(out)));
      });
      const codes: number[] = [];
      for (let i = 0; i < 4; i++) codes.push((await d.cli(['cp', source, 'cp-target:/sv/dir/'])).code);
      swapper.stdin!.end();
      assert.ok((await swaps) > 0, 'the host process swapped the folder');
      assert.deepEqual(readdirSync(hostDir), [], 'a copy landed on the host');
      if (codes.includes(0)) {
        // Into the folder, or through the link inside the container: its own folder of the host folder's name.
        // Anywhere in the volume: the swapper's renames can leave a copy's entries in sub.real (a rename
        // back onto a folder the extraction just made fails, and the swapper moves on).
        const landed = await d.cli(['exec', 'cp-target', 'sh', '-c', `find /sv ${hostDir} 2>/dev/null | grep -c ${name}`]);
        assert.ok(Number(landed.stdout.trim()) > 0, `where the copies went (${codes.join(' ')}): ${landed.stdout} ${landed.stderr}`);
      }
    } finally {
      if (swapper && swapper.exitCode === null) swapper.kill('SIGKILL');
      await d.cli(['rm', '-f', 'cp-target']);
      await d.cli(['volume', 'rm', 'swapvol']);
      rmSync(hostDir, { recursive: true, force: true });
    }
  });

  it('its mount, PID, network, UTS, IPC and cgroup namespaces are owned by its user namespace: with the capability, its root sets its hostname and its network, as with Docker', async () => {
    const run = await d.cli(['run', '-d', '--name', 'owner', 'busybox', 'sleep', '600']);
    assert.equal(run.code, 0, run.stderr);
    const pid = Number((await d.cli(['inspect', '-f', '{{.State.Pid}}', 'owner'])).stdout.trim());
    const userns = String(statSync(`/proc/${pid}/ns/user`).ino);
    assert.notEqual(userns, String(statSync('/proc/self/ns/user').ino), 'the container has a user namespace of its own');
    const owners = await runCommand('lsns', ['-n', '-o', 'TYPE,ONS', '-p', String(pid)]);
    assert.equal(owners.code, 0, owners.stderr);
    const ownerOf = Object.fromEntries(owners.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/)));
    for (const type of ['mnt', 'pid', 'net', 'uts', 'ipc', 'cgroup']) assert.equal(ownerOf[type], userns, `the ${type} namespace's owner: ${owners.stdout}`);
    assert.equal((await d.cli(['rm', '-f', 'owner'])).code, 0);

    const before = hostname();
    // Docker's default capabilities do not include SYS_ADMIN or NET_ADMIN: refused, as with Docker.
    const plain = await d.cli(['run', '--rm', '--hostname', 'box', 'busybox', 'sh', '-c', 'hostname foo 2>&1 | sed "s/.*: //"; hostname; ip link set lo down 2>&1 | sed "s/.*: //"']);
    assert.equal(plain.stdout, 'Operation not permitted\nbox\nOperation not permitted\n', plain.stderr);
    const admin = await d.cli(['run', '--rm', '--cap-add', 'SYS_ADMIN', 'busybox', 'sh', '-c', 'hostname foo && hostname']);
    assert.equal(admin.stdout, 'foo\n', admin.stderr);
    const net = await d.cli(['run', '--rm', '--cap-add', 'NET_ADMIN', 'busybox', 'sh', '-c', 'ip link set lo down && ip link show lo | head -n 1 | cut -d " " -f 3']);
    assert.equal(net.stdout, '<LOOPBACK>\n', `lo is down, set by the container's root: ${net.stderr}`);
    assert.equal(hostname(), before, 'the host\'s hostname is untouched');
  });

  it('a remapped start that fails (the command, or the setup done from outside) says why with Docker\'s code and leaves no process behind', async () => {
    const missing = await d.cli(['run', '--name', 'nocmd', 'busybox', 'nonexistent']);
    assert.equal(missing.code, 127, missing.stderr);
    assert.match(missing.stderr, /exec: "nonexistent": executable file not found in \$PATH/);
    const bind = await d.cli(['run', '--name', 'badbind', '-v', '/etc/hostname:/bin/busybox/x', 'busybox', 'true']);
    assert.equal(bind.code, 125, bind.stderr);
    assert.match(bind.stderr, /bind target \/bin\/busybox\/x: open \/bin\/busybox\/x: Not a directory/);
    for (const name of ['nocmd', 'badbind']) {
      const id = (await d.cli(['inspect', '-f', '{{.Id}}', name])).stdout.trim();
      assert.match(id, /^[0-9a-f]{64}$/);
      const left = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(id);
        } catch {
          return false;
        }
      });
      assert.deepEqual(left, [], `processes of ${name}'s start are left`);
      assert.equal((await d.cli(['rm', name])).code, 0);
    }
  });

  it('the daemon still sets the cgroups of a remapped container: its limits hold', async () => {
    const run = await d.cli(['run', '-d', '--name', 'limited', '-m', '64m', '--pids-limit', '20', 'busybox', 'sleep', '600']);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    const pid = Number((await d.cli(['inspect', '-f', '{{.State.Pid}}', 'limited'])).stdout.trim());
    const dirs = containerCgroupDirs(id);
    const pids = dirs.find((dir) => existsSync(join(dir, 'pids.max')));
    const memory = dirs.find((dir) => existsSync(join(dir, 'memory.limit_in_bytes')) || existsSync(join(dir, 'memory.max')));
    assert.ok(pids && memory, `no pids or memory cgroup for ${id}: ${dirs.join(', ')}`);
    assert.equal(readFileSync(join(pids, 'pids.max'), 'utf8').trim(), '20');
    const limit = existsSync(join(memory, 'memory.max')) ? join(memory, 'memory.max') : join(memory, 'memory.limit_in_bytes');
    assert.equal(readFileSync(limit, 'utf8').trim(), String(64 * 1024 * 1024));
    assert.ok(readFileSync(join(pids, 'cgroup.procs'), 'utf8').split('\n').includes(String(pid)), 'the remapped process is not in its cgroup');
    const bomb = await d.cli(['run', '--rm', '-m', '32m', 'busybox', 'tail', '/dev/zero']);
    assert.equal(bomb.code, 137, bomb.stderr);
    assert.equal((await d.cli(['rm', '-f', 'limited'])).code, 0);
  });

  it('combines with --read-only, --tmpfs and --privileged: a privileged remapped container is still the range\'s uid on the host', async () => {
    const ro = await d.cli(['run', '--rm', '--read-only', '--tmpfs', '/tmp', '-w', '/made/here', 'busybox', 'sh', '-c',
      'touch /tmp/x && echo tmp-ok; touch /x 2>&1 | sed "s/.*: //"; stat -c "%u" /tmp /made/here']);
    assert.equal(ro.stdout, 'tmp-ok\nRead-only file system\n0\n0\n', ro.stderr);
    const priv = await d.cli(['run', '-d', '--name', 'privileged', '--privileged', 'busybox', 'sleep', '600']);
    assert.equal(priv.code, 0, priv.stderr);
    const pid = Number((await d.cli(['inspect', '-f', '{{.State.Pid}}', 'privileged'])).stdout.trim());
    assert.deepEqual(hostIds(pid), { uid: start, gid: start });
    const mknod = await d.cli(['exec', 'privileged', 'sh', '-c', 'mknod /kmsg c 1 11 2>&1 | sed "s/.*: //"']);
    assert.equal(mknod.stdout, 'Operation not permitted\n', mknod.stderr);
    assert.equal((await d.cli(['rm', '-f', 'privileged'])).code, 0);
  });

  it('--userns host opts a container out: the host\'s ids, shown by inspect', async () => {
    const r = await d.cli(['run', '--name', 'unmapped', '--userns', 'host', 'busybox', 'sh', '-c', 'cat /proc/self/uid_map | tr -s " "']);
    assert.equal(r.stdout, ' 0 0 4294967295\n', r.stderr);
    assert.equal((await d.cli(['inspect', '-f', '{{.HostConfig.UsernsMode}}', 'unmapped'])).stdout, 'host\n');
    assert.equal((await d.cli(['rm', 'unmapped'])).code, 0);
    const bad = await d.cli(['run', '--rm', '--userns', 'private', 'busybox', 'true']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /^Error response from daemon: invalid --userns private: only "host" is supported/);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  });

  it('info shows the remap as Docker does (SecurityOptions name=userns) and says to whom', async () => {
    const json = await d.cli(['info', '-f', '{{json .SecurityOptions}}']);
    assert.match(json.stdout, /"name=userns"/, json.stderr);
    const text = await d.cli(['info']);
    assert.match(text.stdout, new RegExp(` Security Options:\\n(.*\\n)*  userns\\n   Remapped to: ${user}:${user} \\(uid ${start}, gid ${start}, 65536 ids\\)`));
  });

  it('a user without ranges is refused at start in one line', async () => {
    const r = await runCommand(process.execPath, [DAEMON, '--userns-remap', 'root', '--data-root', join(d.root, 'other-data'), '--exec-root', join(d.root, 'other-run')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr + r.stdout, /--userns-remap root: no range for root in \/etc\/subuid: add a line "root:START:65536"/);
  });
});

describe('e2e: --userns-remap default', { timeout: 120_000 }, () => {
  const d = new TestDaemon('userns-default');
  const existed = userExists('mini-docker');
  const subuidBefore = existsSync(SUBUID) ? readFileSync(SUBUID, 'utf8') : '';

  after(async () => {
    await d.cleanup();
    // Only what this test made goes: a mini-docker user that was there before stays.
    if (!existed) await removeRemapUser('mini-docker');
  });

  it('makes the mini-docker user and its ranges when missing, and maps containers to them', { skip: existed && 'the host already has a mini-docker user' }, async () => {
    d.daemonArgs = ['--userns-remap', 'default'];
    await d.start();
    assert.ok(userExists('mini-docker'), 'no mini-docker user was made');
    const line = readFileSync(SUBUID, 'utf8').split('\n').find((l) => l.startsWith('mini-docker:'));
    assert.ok(line, `no mini-docker range in ${SUBUID}`);
    assert.ok(!subuidBefore.includes('mini-docker:'));
    const first = Number(line.split(':')[1]);
    assert.ok(first >= 100000, line);
    const r = await d.cli(['run', '--rm', 'busybox', 'sh', '-c', 'id -u; cat /proc/self/uid_map | tr -s " "']);
    assert.equal(r.stdout, `0\n 0 ${first} 65536\n`, r.stderr);
    const shell = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('mini-docker:'));
    assert.match(shell ?? '', /:\/usr\/sbin\/nologin$/, 'the user can log in');
  });
});
