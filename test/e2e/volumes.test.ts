// E2E: volumes (issue 13, items 1-3) through the CLI and the real docker client against a real
// daemon: data that outlives its container, "in use" refusals, prune, an image's VOLUME with
// copy-up, rm -v, --volumes-from, events, inspect, system df, and a daemon killed with -9 during
// a volume's create and after the intent of an rm -v.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FAILPOINTS_ENV } from '../../core/failpoints.js';
import { DOCKER_CLIENT_MISSING, TestDaemon, runCommand, until, type RunResult } from './harness.js';

async function ok(d: TestDaemon, args: readonly string[]): Promise<RunResult> {
  const r = await d.cli(args);
  assert.equal(r.code, 0, `mini-docker ${args.join(' ')}: ${r.stderr}`);
  return r;
}

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

/** The folders the local driver keeps, one per volume. */
function localFolders(d: TestDaemon): string[] {
  const dir = join(d.dataRoot, 'volume.v1.local');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

interface InspectedMount {
  Type: string;
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  RW: boolean;
}

describe('e2e: volumes with the CLI', () => {
  const d = new TestDaemon('volumes');
  before(() => d.start());
  after(() => d.cleanup());

  it('a named volume outlives its container; rm while in use is refused; the data is read by a new container', async () => {
    await ok(d, ['run', '-d', '--name', 'writer', '-v', 'data:/data', 'busybox', 'sh', '-c', 'echo 1 > /data/x; sleep 100']);
    await until('the write', async () => ((await d.cli(['exec', 'writer', 'cat', '/data/x'])).stdout === '1\n' ? true : undefined));
    const refused = await d.cli(['volume', 'rm', 'data']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^Error response from daemon: remove data: volume is in use - \[[0-9a-f]{64}\]\n$/);
    await ok(d, ['rm', '-f', 'writer']);
    assert.deepEqual(lines((await ok(d, ['volume', 'ls', '-q'])).stdout), ['data'], 'rm -f without -v keeps a named volume');
    const read = await ok(d, ['run', '--rm', '-v', 'data:/data:ro', 'busybox', 'cat', '/data/x']);
    assert.equal(read.stdout, '1\n');
    const ro = await d.cli(['run', '--rm', '-v', 'data:/data:ro', 'busybox', 'sh', '-c', 'echo 2 > /data/x']);
    assert.notEqual(ro.code, 0, 'a read-only mount refuses writes');
    await ok(d, ['run', '--rm', '--mount', 'type=volume,src=data,dst=/d', 'busybox', 'sh', '-c', 'test "$(cat /d/x)" = 1']);
    const inspected = JSON.parse((await ok(d, ['volume', 'inspect', 'data'])).stdout) as { Name: string; Driver: string; Mountpoint: string; Scope: string }[];
    assert.equal(inspected[0]!.Name, 'data');
    assert.equal(inspected[0]!.Driver, 'local');
    assert.equal(inspected[0]!.Mountpoint, join(d.dataRoot, 'volume.v1.local', 'data', '_data'));
    const readOnlyRoot = await ok(d, ['run', '--rm', '--read-only', '-v', 'data:/data', 'busybox', 'sh', '-c', 'echo 3 > /data/y && cat /data/y && touch /root-file 2>/dev/null || echo root read-only']);
    assert.equal(readOnlyRoot.stdout, '3\nroot read-only\n', 'a volume stays writable in a --read-only container');
    await ok(d, ['volume', 'rm', 'data']);
    assert.deepEqual(localFolders(d), []);
    const missing = await d.cli(['volume', 'inspect', 'data']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^Error response from daemon: get data: no such volume\n$/);
    await ok(d, ['volume', 'rm', '-f', 'data']);
  });

  it('volume create, ls with filters and formats, labels, prune removes only unused ones', async () => {
    assert.equal((await ok(d, ['volume', 'create', '--label', 'team=db', 'kept'])).stdout, 'kept\n');
    await ok(d, ['volume', 'create', 'loose']);
    assert.equal((await ok(d, ['volume', 'create', 'loose'])).stdout, 'loose\n', 'creating an existing name returns it');
    const anonymous = lines((await ok(d, ['volume', 'create'])).stdout)[0]!;
    assert.match(anonymous, /^[0-9a-f]{64}$/);
    await ok(d, ['create', '--name', 'user', '-v', 'kept:/k', 'busybox', 'true']);
    const table = (await ok(d, ['volume', 'ls'])).stdout;
    assert.match(table, /^DRIVER\s+VOLUME NAME\n/);
    assert.match(table, /local\s+kept\n/);
    assert.deepEqual(lines((await ok(d, ['volume', 'ls', '-q', '--filter', 'dangling=true'])).stdout).sort(), [anonymous, 'loose'].sort());
    assert.deepEqual(lines((await ok(d, ['volume', 'ls', '-q', '--filter', 'label=team=db'])).stdout), ['kept']);
    assert.deepEqual(lines((await ok(d, ['volume', 'ls', '--format', '{{.Name}}:{{.Labels}}', '--filter', 'name=kep'])).stdout), ['kept:team=db']);
    const bad = await d.cli(['volume', 'create', '--opt', 'size=1g', 'sized']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^Error response from daemon: create sized: invalid option "size" for volume driver local/);
    // A volume created with `volume create` and no name is not anonymous (Docker 23+): prune keeps it without -a.
    const pruned = await ok(d, ['volume', 'prune', '-f']);
    assert.equal(pruned.stdout, 'Total reclaimed space: 0B\n');
    const all = await ok(d, ['volume', 'prune', '-a', '-f']);
    assert.deepEqual(lines(all.stdout).slice(1, -1).sort(), [anonymous, 'loose'].sort(), `prune -a removes the unused ones: ${all.stdout}`);
    assert.deepEqual(lines((await ok(d, ['volume', 'ls', '-q'])).stdout), ['kept'], 'the used one stays');
    await ok(d, ['rm', 'user']);
    await ok(d, ['volume', 'rm', 'kept']);
  });

  it('an image VOLUME gets a fresh anonymous volume with the image content (owner and mode kept); rm -v removes it', async () => {
    await ok(d, ['run', '--name', 'base', 'busybox', 'sh', '-c', 'mkdir -p /srv/sub && echo seed > /srv/sub/file && chown 1234:4321 /srv/sub/file && chmod 0751 /srv && chmod 0600 /srv/sub/file']);
    await ok(d, ['commit', '-c', 'VOLUME /srv', 'base', 'withvol:v1']);
    await ok(d, ['rm', 'base']);
    const image = JSON.parse((await ok(d, ['inspect', '--type', 'image', 'withvol:v1'])).stdout) as { Config: { Volumes: Record<string, unknown> } }[];
    assert.deepEqual(image[0]!.Config.Volumes, { '/srv': {} });
    const seen = await ok(d, ['run', '--name', 'vc', 'withvol:v1', 'sh', '-c', 'cat /srv/sub/file; stat -c "%u:%g %a" /srv/sub/file /srv; echo more > /srv/more']);
    assert.equal(seen.stdout, 'seed\n1234:4321 600\n0:0 751\n');
    const c = JSON.parse((await ok(d, ['inspect', 'vc'])).stdout) as { Mounts: InspectedMount[] }[];
    const mount = c[0]!.Mounts.find((m) => m.Destination === '/srv');
    assert.ok(mount && mount.Type === 'volume' && mount.Driver === 'local' && mount.RW, JSON.stringify(c[0]!.Mounts));
    assert.match(mount.Name ?? '', /^[0-9a-f]{64}$/);
    assert.ok(existsSync(join(mount.Source, 'more')), 'Source is the volume folder on the host');
    // Mounting the same volume in another container by name: the data written there is seen.
    const again = await ok(d, ['run', '--rm', '-v', `${mount.Name}:/again`, 'busybox', 'cat', '/again/more']);
    assert.equal(again.stdout, 'more\n');
    // nocopy: a new volume at the image's path is left empty.
    const empty = await ok(d, ['run', '--rm', '--mount', 'type=volume,dst=/srv,volume-nocopy', 'withvol:v1', 'ls', '-A', '/srv']);
    assert.equal(empty.stdout, '');
    await ok(d, ['rm', '-v', 'vc']);
    assert.deepEqual(lines((await ok(d, ['volume', 'ls', '-q'])).stdout), [], 'rm -v removed the anonymous volume; --rm removed theirs');
    assert.deepEqual(localFolders(d), []);
    await ok(d, ['rmi', 'withvol:v1']);
  });

  it('an existing volume still empty at its first mount is filled from the image, once; not with nocopy, not when it holds files', async () => {
    await ok(d, ['run', '--name', 'srvbase', 'busybox', 'sh', '-c', 'mkdir -p /srv/sub && echo seed > /srv/sub/file && chown 1234:4321 /srv/sub/file && chmod 0751 /srv']);
    await ok(d, ['commit', 'srvbase', 'srvimg:v1']);
    await ok(d, ['rm', 'srvbase']);
    // Docker's `volume create data; run -v data:/etc busybox ls /etc`: the image's /etc, kept by the volume.
    await ok(d, ['volume', 'create', 'etcdata']);
    const imageEtc = lines((await ok(d, ['run', '--rm', 'busybox', 'ls', '/etc'])).stdout);
    const seen = lines((await ok(d, ['run', '--rm', '-v', 'etcdata:/etc', 'busybox', 'ls', '/etc'])).stdout);
    for (const f of imageEtc) assert.ok(seen.includes(f), `the image's /etc/${f} is in the volume at its first mount: ${seen.join(' ')}`);
    const folder = join(d.dataRoot, 'volume.v1.local', 'etcdata', '_data');
    assert.equal(readFileSync(join(folder, 'passwd'), 'utf8'), (await ok(d, ['run', '--rm', 'busybox', 'cat', '/etc/passwd'])).stdout, 'the volume keeps the files');

    await ok(d, ['volume', 'create', 'filled']);
    const first = await ok(d, ['run', '--rm', '-v', 'filled:/srv', 'srvimg:v1', 'sh', '-c', 'cat /srv/sub/file; stat -c "%u:%g %a" /srv/sub/file /srv; rm -rf /srv/sub']);
    assert.equal(first.stdout, 'seed\n1234:4321 644\n0:0 751\n', 'owners and modes kept, the root as the image folder');
    assert.equal((await ok(d, ['run', '--rm', '-v', 'filled:/srv', 'srvimg:v1', 'ls', '-A', '/srv'])).stdout, '', 'emptied after its first mount, it is never filled again');
    const steps = await ok(d, ['events', '--steps', '--since', '2m', '--until', '0s', '--filter', 'volume=filled', '--format', '{{.Action}}']);
    assert.deepEqual(lines(steps.stdout).filter((a) => a.startsWith('copy-up')), ['copy-up-intent', 'copy-up'], steps.stdout);

    await ok(d, ['volume', 'create', 'nc']);
    assert.equal((await ok(d, ['run', '--rm', '-v', 'nc:/srv:nocopy', 'srvimg:v1', 'ls', '-A', '/srv'])).stdout, '', 'nocopy leaves it empty');
    assert.equal((await ok(d, ['run', '--rm', '--mount', 'type=volume,src=nc,dst=/srv', 'srvimg:v1', 'ls', '-A', '/srv'])).stdout, '', 'and its first mount is over');

    const device = join(d.root, 'held-device');
    mkdirSync(device, { recursive: true });
    writeFileSync(join(device, 'mine'), 'mine\n');
    await ok(d, ['volume', 'create', '--opt', 'type=none', '--opt', 'o=bind', '--opt', `device=${device}`, 'holding']);
    assert.equal((await ok(d, ['run', '--rm', '-v', 'holding:/srv', 'srvimg:v1', 'ls', '-A', '/srv'])).stdout, 'mine\n', 'a volume that holds files is not filled');
    await ok(d, ['volume', 'rm', 'etcdata', 'filled', 'nc', 'holding']);
    assert.equal(readFileSync(join(device, 'mine'), 'utf8'), 'mine\n', 'removing a bind volume leaves its device');
    await ok(d, ['rmi', 'srvimg:v1']);
  });

  it('-v /path makes an anonymous volume; rm without -v keeps it, a named one survives rm -v; --volumes-from shares them', async () => {
    await ok(d, ['create', '--name', 'owner', '-v', '/anon', '-v', 'named1:/named', 'busybox', 'sh', '-c', 'echo a > /anon/f; echo n > /named/f']);
    await ok(d, ['start', '-a', 'owner']);
    const shared = await ok(d, ['run', '--rm', '--volumes-from', 'owner:ro', 'busybox', 'sh', '-c', 'cat /anon/f /named/f; touch /anon/g 2>/dev/null || echo read-only']);
    assert.equal(shared.stdout, 'a\nn\nread-only\n');
    const owner = JSON.parse((await ok(d, ['inspect', 'owner'])).stdout) as { Mounts: InspectedMount[] }[];
    const anonName = owner[0]!.Mounts.find((m) => m.Destination === '/anon')!.Name!;
    await ok(d, ['rm', '-v', 'owner']);
    assert.deepEqual(lines((await ok(d, ['volume', 'ls', '-q'])).stdout), ['named1'], 'rm -v removes only the anonymous volume');
    assert.ok(!localFolders(d).includes(anonName));
    await ok(d, ['run', '--name', 'keeper', '-v', '/kept', 'busybox', 'true']);
    await ok(d, ['rm', 'keeper']);
    assert.equal(lines((await ok(d, ['volume', 'ls', '-q', '--filter', 'dangling=true'])).stdout).length, 2, 'rm without -v leaves the anonymous volume');
    const pruned = await ok(d, ['volume', 'prune', '-f']);
    assert.equal(lines(pruned.stdout).length, 3, `prune removes the anonymous one only: ${pruned.stdout}`);
    assert.deepEqual(lines((await ok(d, ['volume', 'ls', '-q'])).stdout), ['named1']);
    await ok(d, ['volume', 'rm', 'named1']);
  });

  it('cp into and out of a stopped container reaches its volume, not the layer under it', async () => {
    await ok(d, ['create', '--name', 'cpc', '-v', 'cpvol:/data', '-v', 'cpro:/ro:ro', 'busybox', 'true']);
    const file = join(d.root, 'to-copy');
    writeFileSync(file, 'copied\n');
    await ok(d, ['cp', file, 'cpc:/data/']);
    assert.equal((await ok(d, ['run', '--rm', '-v', 'cpvol:/v', 'busybox', 'cat', '/v/to-copy'])).stdout, 'copied\n');
    assert.equal((await ok(d, ['cp', 'cpc:/data/to-copy', '-'])).stdout.includes('copied\n'), true, 'and out of it');
    const ro = await d.cli(['cp', file, 'cpc:/ro/']);
    assert.notEqual(ro.code, 0);
    assert.match(ro.stderr, /mounted volume is marked read-only/);
    await ok(d, ['rm', 'cpc']);
    await ok(d, ['volume', 'rm', 'cpvol', 'cpro']);
  });

  it('refuses bad specs in one line, before anything exists', async () => {
    const cases: [string[], RegExp][] = [
      [['-v', 'x:/a', '-v', 'y:/a'], /Duplicate mount point: \/a/],
      [['--mount', 'type=volume,src=/abs,dst=/a'], /invalid mount config for type "volume": invalid volume name "\/abs"/],
      [['-v', 'a:/b:nocopy,ro,bad'], /unsupported option "bad"/],
      [['--volumes-from', 'nosuch'], /No such container: nosuch/],
      [['-v', 'x!:/a'], /includes invalid characters for a local volume name/],
    ];
    for (const [flags, message] of cases) {
      const r = await d.cli(['create', ...flags, 'busybox', 'true']);
      assert.equal(r.code, 1, `${flags.join(' ')} (the daemon's refusal: 1, as docker create): ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(lines(r.stderr).length, 1, r.stderr);
    }
    assert.deepEqual(lines((await ok(d, ['volume', 'ls', '-q'])).stdout), []);
    assert.deepEqual(lines((await ok(d, ['ps', '-aq'])).stdout), []);
  });

  it('events show volume create, mount, unmount and destroy', async () => {
    await ok(d, ['volume', 'create', 'evt']);
    await ok(d, ['run', '--rm', '-v', 'evt:/e', 'busybox', 'sh', '-c', 'echo 12345 > /e/f']);
    await ok(d, ['volume', 'rm', 'evt']);
    const events = await ok(d, ['events', '--since', '1m', '--until', '0s', '--filter', 'volume=evt', '--format', '{{.Type}} {{.Action}} {{.Actor.ID}}']);
    assert.deepEqual(lines(events.stdout), ['volume create evt', 'volume mount evt', 'volume unmount evt', 'volume destroy evt']);
  });
});

describe('e2e: volumes survive a daemon killed with -9', () => {
  it('during volume create: after the restart no half volume is listed or left on disk', async () => {
    for (const point of ['volume.after-intent', 'volume.after-create']) {
      const d = new TestDaemon('volumes-crash');
      try {
        d.env[FAILPOINTS_ENV] = point;
        await d.start();
        delete d.env[FAILPOINTS_ENV];
        const r = await d.cli(['volume', 'create', 'half']);
        assert.notEqual(r.code, 0, `${point}: the create was cut`);
        await until(`the daemon to die at ${point}`, () => d.exit, 30_000);
        if (point === 'volume.after-create') assert.deepEqual(localFolders(d), ['half'], 'the driver made the folder before the kill');
        await d.start();
        assert.deepEqual(lines((await ok(d, ['volume', 'ls', '-q'])).stdout), [], `${point}: no half volume`);
        assert.deepEqual(localFolders(d), [], `${point}: nothing left on disk`);
        await ok(d, ['volume', 'create', 'half']);
        await ok(d, ['volume', 'rm', 'half']);
      } finally {
        await d.cleanup();
      }
    }
  });

  it('during the copy-up of an existing volume at its first mount: after the restart it is empty and not mounted yet; the next create fills it once', async () => {
    const d = new TestDaemon('volumes-cucrash');
    try {
      d.env[FAILPOINTS_ENV] = 'volume.after-copy-up-entries';
      await d.start();
      delete d.env[FAILPOINTS_ENV];
      await ok(d, ['volume', 'create', 'etcvol']);
      const folder = join(d.dataRoot, 'volume.v1.local', 'etcvol', '_data');
      const r = await d.cli(['create', '--name', 'first', '-v', 'etcvol:/etc', 'busybox', 'true']);
      assert.notEqual(r.code, 0, 'the create was cut');
      await until('the daemon to die at volume.after-copy-up-entries', () => d.exit, 30_000);
      assert.ok(readdirSync(folder).length > 0, 'the kill came with the volume half filled');
      await d.start();
      assert.deepEqual(readdirSync(folder), [], 'recovery emptied the half-filled volume');
      assert.deepEqual(lines((await ok(d, ['volume', 'ls', '-q'])).stdout), ['etcvol']);
      assert.notEqual((await d.cli(['inspect', '--type', 'container', 'first'])).code, 0, 'the cut create left no container');
      const undone = await ok(d, ['events', '--steps', '--since', '5m', '--until', '0s', '--filter', 'volume=etcvol', '--format', '{{.Action}}']);
      assert.deepEqual(lines(undone.stdout).filter((a) => a.startsWith('copy-up')), ['copy-up-intent', 'copy-up-undone']);
      const imageEtc = lines((await ok(d, ['run', '--rm', 'busybox', 'ls', '/etc'])).stdout);
      await ok(d, ['run', '--rm', '-v', 'etcvol:/etc', 'busybox', 'true']);
      for (const f of imageEtc) assert.ok(readdirSync(folder).includes(f), `filled at the next first mount: ${f}`);
      assert.equal(readFileSync(join(folder, 'passwd'), 'utf8'), (await ok(d, ['run', '--rm', 'busybox', 'cat', '/etc/passwd'])).stdout, 'copied once, whole');
      await ok(d, ['volume', 'rm', 'etcvol']);
    } finally {
      await d.cleanup();
    }
  });

  it('a bind volume over an empty host folder is not filled from the image: no copy-up to cut, and the user\'s files there outlive a kill -9 and the recovery', async () => {
    const d = new TestDaemon('volumes-bindcu');
    try {
      // Armed: a copy-up into the bind volume would kill the daemon after two entries, and the
      // recovery's undo would empty the user's folder.
      d.env[FAILPOINTS_ENV] = 'volume.after-copy-up-entries';
      await d.start();
      delete d.env[FAILPOINTS_ENV];
      const device = join(d.root, 'user-folder');
      mkdirSync(device, { recursive: true });
      await ok(d, ['volume', 'create', '--opt', 'type=none', '--opt', 'o=bind', '--opt', `device=${device}`, 'userdata']);
      await ok(d, ['create', '--name', 'binduser', '-v', 'userdata:/etc', 'busybox', 'true']);
      assert.equal(d.exit, undefined, 'the daemon did not die: no copy-up started');
      assert.deepEqual(readdirSync(device), [], 'the image\'s /etc was not copied into the user\'s folder');
      writeFileSync(join(device, 'keep.txt'), 'the user\'s\n');
      await d.kill9();
      await d.start();
      assert.equal(readFileSync(join(device, 'keep.txt'), 'utf8'), 'the user\'s\n', 'the recovery left the user\'s file');
      assert.equal((await ok(d, ['run', '--rm', '-v', 'userdata:/etc', 'busybox', 'ls', '-A', '/etc'])).stdout, 'keep.txt\n');
      const steps = await ok(d, ['events', '--steps', '--since', '5m', '--until', '0s', '--filter', 'volume=userdata', '--format', '{{.Action}}']);
      assert.deepEqual(lines(steps.stdout).filter((a) => a.startsWith('copy-up')), [], steps.stdout);
      await ok(d, ['rm', 'binduser']);
      await ok(d, ['volume', 'rm', 'userdata']);
      assert.equal(readFileSync(join(device, 'keep.txt'), 'utf8'), 'the user\'s\n');
    } finally {
      await d.cleanup();
    }
  });

  it('after the intent of rm -v: the removal and its anonymous volume are finished at the restart', async () => {
    const d = new TestDaemon('volumes-rmcrash');
    try {
      d.env[FAILPOINTS_ENV] = 'rm.after-intent';
      await d.start();
      delete d.env[FAILPOINTS_ENV];
      await ok(d, ['run', '-d', '--name', 'victim', '-v', '/scratch', '-v', 'stays:/stays', 'busybox', 'sleep', '100']);
      assert.equal(localFolders(d).length, 2);
      const r = await d.cli(['rm', '-f', '-v', 'victim']);
      assert.notEqual(r.code, 0);
      await until('the daemon to die at rm.after-intent', () => d.exit, 30_000);
      await d.start();
      await until('the removal to be finished', async () => ((await d.cli(['inspect', '--type', 'container', 'victim'])).code !== 0 ? true : undefined));
      assert.deepEqual(lines((await ok(d, ['volume', 'ls', '-q'])).stdout), ['stays'], 'the anonymous volume went, the named one stays');
      assert.deepEqual(localFolders(d), ['stays']);
      await ok(d, ['volume', 'rm', 'stays']);
    } finally {
      await d.cleanup();
    }
  });
});

/** The mount table's lines (source, target, type, options) whose target is `target`. */
function mountsAt(target: string): string[] {
  return readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((l) => l.split(' ')[1] === target);
}

describe('e2e: local volumes with options (tmpfs, a block device, nfs refused)', () => {
  const d = new TestDaemon('volumes-opts');
  before(() => d.start());
  after(() => d.cleanup());

  it('type=tmpfs: mounted while a container uses it, unmounted after its last user stops, its content gone', async () => {
    assert.equal((await ok(d, ['volume', 'create', '--driver', 'local', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=64m,uid=1000', 'ram'])).stdout, 'ram\n');
    const mountpoint = (await ok(d, ['volume', 'inspect', '-f', '{{.Mountpoint}}', 'ram'])).stdout.trim();
    assert.deepEqual(mountsAt(mountpoint), [], 'not mounted before a container uses it');
    await ok(d, ['run', '-d', '--name', 'ram1', '-v', 'ram:/data', 'busybox', 'sh', '-c', 'echo kept > /data/f; sleep 600']);
    const mounted = mountsAt(mountpoint);
    assert.equal(mounted.length, 1, `mounted once for its first user: ${mounted.join('; ')}`);
    assert.match(mounted[0]!, /^tmpfs \S+ tmpfs \S*size=65536k/);
    assert.match(mounted[0]!, /uid=1000/);
    await until('the write', async () => ((await d.cli(['exec', 'ram1', 'cat', '/data/f'])).stdout === 'kept\n' ? true : undefined));
    assert.equal((await ok(d, ['exec', 'ram1', 'sh', '-c', 'stat -c %u /data; df -k /data | tail -n 1 | tr -s " " | cut -d" " -f2'])).stdout, '1000\n65536\n');
    await ok(d, ['run', '-d', '--name', 'ram2', '-v', 'ram:/shared', 'busybox', 'sleep', '600']);
    assert.equal((await ok(d, ['exec', 'ram2', 'cat', '/shared/f'])).stdout, 'kept\n', 'a second user shares the same tmpfs');
    assert.equal(mountsAt(mountpoint).length, 1, 'not mounted twice');
    await ok(d, ['stop', '-t', '1', 'ram1']);
    assert.equal(mountsAt(mountpoint).length, 1, 'still mounted while ram2 runs');
    await ok(d, ['stop', '-t', '1', 'ram2']);
    assert.deepEqual(mountsAt(mountpoint), [], 'unmounted after the last user stopped');
    assert.deepEqual(readdirSync(mountpoint), [], 'nothing of it is left on disk');
    await ok(d, ['start', 'ram2']);
    assert.equal((await ok(d, ['exec', 'ram2', 'ls', '-A', '/shared'])).stdout, '', 'a new tmpfs: the content went with the last user');
    // cp into a stopped container with a tmpfs volume mounts it for the copy and lets it go.
    const file = join(d.root, 'to-ram');
    writeFileSync(file, 'copied\n');
    await ok(d, ['cp', file, 'ram1:/data/']);
    assert.equal((await ok(d, ['exec', 'ram2', 'cat', '/shared/to-ram'])).stdout, 'copied\n', 'the copy landed in the mounted tmpfs ram2 holds');
    await ok(d, ['rm', '-f', 'ram1', 'ram2']);
    assert.deepEqual(mountsAt(mountpoint), [], 'rm -f of the last user unmounts it');
    await ok(d, ['volume', 'rm', 'ram']);
    assert.deepEqual(localFolders(d), []);
  });

  it('type=ext4 on a loop device: mounted for its users, the data stays on the device between them', async (t) => {
    const image = join(d.root, 'ext4.img');
    const made = await runCommand('sh', ['-c', `truncate -s 32M ${image} && mkfs.ext4 -q -F ${image} && losetup -f --show ${image}`]);
    if (made.code !== 0) {
      t.skip(`no loop device here: ${made.stderr.trim()}`);
      return;
    }
    const loop = made.stdout.trim();
    try {
      await ok(d, ['volume', 'create', '--opt', 'type=ext4', '--opt', `device=${loop}`, '--opt', 'o=noatime', 'disk']);
      const mountpoint = (await ok(d, ['volume', 'inspect', '-f', '{{.Mountpoint}}', 'disk'])).stdout.trim();
      await ok(d, ['run', '--rm', '-v', 'disk:/disk', 'busybox', 'sh', '-c', 'echo on-disk > /disk/f; grep " /disk " /proc/mounts | cut -d" " -f3']);
      assert.deepEqual(mountsAt(mountpoint), [], 'unmounted after its user');
      const read = await ok(d, ['run', '--rm', '-v', 'disk:/disk', 'busybox', 'cat', '/disk/f']);
      assert.equal(read.stdout, 'on-disk\n', 'the data stays on the device');
      const bad = await d.cli(['volume', 'create', '--opt', 'type=ext4', '--opt', `device=${image}`, 'notblock']);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /^Error response from daemon: create notblock: volume driver local: the device \S+ is not a block device\n$/);
      await ok(d, ['volume', 'rm', 'disk']);
      assert.deepEqual(mountsAt(mountpoint), []);
      assert.deepEqual(localFolders(d), []);
    } finally {
      await runCommand('losetup', ['-d', loop]);
    }
  });

  it('nfs and unknown types are refused in one line, naming what to use', async () => {
    const nfs = await d.cli(['volume', 'create', '--opt', 'type=nfs', '--opt', 'o=addr=127.0.0.1,rw', '--opt', 'device=:/export', 'remote']);
    assert.equal(nfs.code, 1);
    assert.match(nfs.stderr, /^Error response from daemon: create remote: volume driver local: type "nfs" \(a network file system\) is not supported: mount it on the host and use --opt type=none --opt o=bind --opt device=\/that\/mount\n$/);
    const tmpfsBad = await d.cli(['volume', 'create', '--opt', 'type=tmpfs', '--opt', 'o=size=big', 'badram']);
    assert.equal(tmpfsBad.code, 1);
    assert.match(tmpfsBad.stderr, /invalid tmpfs option "size=big"/);
    assert.deepEqual(lines((await ok(d, ['volume', 'ls', '-q'])).stdout), []);
  });
});

describe('e2e: a tmpfs volume after a daemon killed with -9', () => {
  it('its user died while no daemon ran: the next daemon records the exit and unmounts the volume', async () => {
    const d = new TestDaemon('volumes-tmpfs-crash');
    try {
      await d.start();
      await ok(d, ['volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', 'ramc']);
      const mountpoint = (await ok(d, ['volume', 'inspect', '-f', '{{.Mountpoint}}', 'ramc'])).stdout.trim();
      await ok(d, ['run', '-d', '--name', 'user', '-v', 'ramc:/r', 'busybox', 'sleep', '600']);
      const pid = Number((await ok(d, ['inspect', '-f', '{{.State.Pid}}', 'user'])).stdout.trim());
      assert.equal(mountsAt(mountpoint).length, 1);
      await d.kill9();
      process.kill(pid, 'SIGKILL'); // the container's process this test started
      await until('its process to end', async () => (existsSync(`/proc/${pid}`) ? undefined : true));
      assert.equal(mountsAt(mountpoint).length, 1, 'the mount outlived the daemon');
      await d.start();
      assert.equal((await ok(d, ['inspect', '-f', '{{.State.Status}}', 'user'])).stdout, 'exited\n');
      assert.deepEqual(mountsAt(mountpoint), [], 'recovery unmounted the volume its last user left');
      await ok(d, ['start', 'user']);
      assert.equal(mountsAt(mountpoint).length, 1, 'mounted again for the next start');
      await ok(d, ['rm', '-f', 'user']);
      assert.deepEqual(mountsAt(mountpoint), []);
      await ok(d, ['volume', 'rm', 'ramc']);
    } finally {
      await d.cleanup();
    }
  });
});

describe('e2e: volumes with the docker client', { skip: DOCKER_CLIENT_MISSING }, () => {
  const d = new TestDaemon('volumes-docker');
  before(() => d.start());
  after(() => d.cleanup());

  it('docker volume create/ls/inspect/rm/prune and run -v, --mount type=volume, rm -v', async () => {
    const docker = async (args: string[]): Promise<RunResult> => {
      const r = await d.docker(args, { timeoutMs: 30_000 });
      assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
      return r;
    };
    assert.equal((await docker(['volume', 'create', '--label', 'a=b', 'dv'])).stdout, 'dv\n');
    await docker(['run', '-d', '--name', 'dw', '-v', 'dv:/data', 'busybox', 'sh', '-c', 'echo 1 > /data/x; sleep 100']);
    await until('the write', async () => ((await d.docker(['exec', 'dw', 'cat', '/data/x'])).stdout === '1\n' ? true : undefined));
    const inUse = await d.docker(['volume', 'rm', 'dv']);
    assert.equal(inUse.code, 1);
    assert.match(inUse.stderr, /volume is in use/);
    await docker(['rm', '-f', 'dw']);
    assert.equal((await docker(['run', '--rm', '--mount', 'type=volume,src=dv,dst=/data,readonly', 'busybox', 'cat', '/data/x'])).stdout, '1\n');
    assert.equal((await docker(['volume', 'inspect', '--format', '{{.Name}} {{.Driver}} {{.Labels}}', 'dv'])).stdout, 'dv local map[a:b]\n');
    assert.match((await docker(['volume', 'ls'])).stdout, /local\s+dv/);
    await docker(['run', '--name', 'da', '-v', '/anon', 'busybox', 'true']);
    const anon = (await docker(['inspect', '--format', '{{range .Mounts}}{{.Name}}{{end}}', 'da'])).stdout.trim();
    assert.match(anon, /^[0-9a-f]{64}$/);
    await docker(['rm', '-v', 'da']);
    assert.deepEqual(lines((await docker(['volume', 'ls', '-q'])).stdout), ['dv']);
    const df = await docker(['system', 'df', '-v']);
    assert.match(df.stdout, /dv\s+0\s+2B/, df.stdout);
    // A tmpfs volume as the docker client asks for it (DriverOpts): mounted for the run, gone after.
    await docker(['volume', 'create', '--driver', 'local', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=16m', 'dt']);
    assert.equal((await docker(['run', '--rm', '-v', 'dt:/t', 'busybox', 'sh', '-c', 'df -k /t | tail -n 1 | tr -s " " | cut -d" " -f2'])).stdout, '16384\n');
    assert.equal((await docker(['volume', 'inspect', '--format', '{{.Options.type}} {{.Options.o}}', 'dt'])).stdout, 'tmpfs size=16m\n');
    await docker(['volume', 'rm', 'dt']);
    const pruned = await docker(['volume', 'prune', '-a', '-f']);
    assert.match(pruned.stdout, /Deleted Volumes:\ndv\n/);
    assert.deepEqual(lines((await docker(['volume', 'ls', '-q'])).stdout), []);
  });
});
