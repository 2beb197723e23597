import assert from 'node:assert/strict';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { busyboxRootfsTar } from '../fixtures/test-image.js';
import { CLI, TestDaemon, type RunResult } from './harness.js';
import { PtySession } from './pty.js';

const LOOP = 'while true; do sleep 1; done';

/**
 * The usage lines of the original project's README (github.com/0x822a5b87/tiny-docker), as
 * written: a rootfs tarball as `docker export` makes it is the image, `IMAGE -- CMD...`, the
 * original's `-c 'QUOTA PERIOD'`, then ps, ps -a, stop ID, exec -it ID /bin/sh.
 */
describe('e2e: the original project\'s usage lines', () => {
  const d = new TestDaemon('seed-usage');
  let tar = '';
  let first = '';
  let second = '';
  let stopping: Promise<RunResult> | undefined;

  before(async () => {
    await d.start();
    // `docker export` writes the container's root filesystem as a flat tar: the fixture is one.
    tar = join(d.root, 'busybox.tar');
    await copyFile((await busyboxRootfsTar()).path, tar);
  });
  after(async () => { await d.cleanup(); });

  async function tarImageIds(): Promise<string[]> {
    const r = await d.cli(['images', '-q', '--no-trunc']);
    assert.equal(r.code, 0, r.stderr);
    const busybox = (await d.cli(['inspect', '-f', '{{.Id}}', 'busybox'])).stdout.trim();
    return [...new Set(r.stdout.split('\n').filter((l) => l !== '' && l !== busybox))];
  }

  it('run -d TAR -- CMD, and with -e, -m, -c: the tarball is imported once; ps; exec -it ID /bin/sh', async () => {
    const a = await d.cli(['run', '-d', tar, '--', '/bin/sh', '-c', LOOP]);
    assert.equal(a.code, 0, a.stderr);
    first = a.stdout.trim();
    assert.match(first, /^[0-9a-f]{64}$/);
    const b = await d.cli(['run', '-d', '-e', 'PATH=/bin/', '-e', 'name=mini-docker-busybox', '-m', '128m', '-c', '100000 100000', tar, '--', '/bin/ash', '-c', LOOP]);
    assert.equal(b.code, 0, b.stderr);
    second = b.stdout.trim();
    assert.equal((await tarImageIds()).length, 1, 'the second run reuses the image imported by the first');

    const env = await d.cli(['exec', second, 'env']);
    assert.match(env.stdout, /^PATH=\/bin\/$/m);
    assert.match(env.stdout, /^name=mini-docker-busybox$/m);
    const limits = await d.cli(['inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.CpuQuota}} {{.HostConfig.CpuPeriod}}', second]);
    assert.equal(limits.stdout.trim(), '134217728 100000 100000');

    const ps = await d.cli(['ps']);
    assert.equal(ps.code, 0, ps.stderr);
    assert.match(ps.stdout, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/m);
    assert.match(ps.stdout, new RegExp(`^${first.slice(0, 12)}\\s+\\S*busybox\\.tar\\s+"/bin/sh -c while tr…"\\s+.*\\s+Up `, 'm'));
    assert.match(ps.stdout, new RegExp(`^${second.slice(0, 12)}\\s+\\S*busybox\\.tar\\s+"/bin/ash -c while t…"\\s+.*\\s+Up `, 'm'));

    // The seed's `stop ID`: sh as PID 1 ignores SIGTERM, so this takes the 10 s grace period and
    // a SIGKILL, as with Docker. It runs while the rest of the file goes on; the last test awaits it.
    stopping = d.cli(['stop', first]);

    const shell = new PtySession(`${CLI} exec -it ${second} /bin/sh`, d.env);
    try {
      await shell.expect(/# /);
      shell.send('echo "H=$(hostname)"; exit\r');
      await shell.expect(new RegExp(`H=${second.slice(0, 12)}\\b`));
    } finally {
      assert.equal(await shell.close(), 0, shell.output);
    }
  });

  it('import FILE NAME:TAG, images, tag, rmi', async () => {
    const imported = await d.cli(['import', tar, 'seed/busybox:v1']);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout.trim(), /^sha256:[0-9a-f]{64}$/);
    const id = imported.stdout.trim();
    const images = await d.cli(['images']);
    assert.match(images.stdout, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/m);
    assert.match(images.stdout, new RegExp(`^seed/busybox\\s+v1\\s+${id.slice(7, 19)}\\s`, 'm'));
    const ran = await d.cli(['run', '--rm', 'seed/busybox:v1', 'echo', 'from the import']);
    assert.equal(ran.stdout, 'from the import\n', ran.stderr);

    assert.equal((await d.cli(['tag', 'seed/busybox:v1', 'seed/busybox:latest'])).code, 0);
    const tagged = await d.cli(['images', 'seed/busybox']);
    assert.match(tagged.stdout, new RegExp(`^seed/busybox\\s+v1\\s+${id.slice(7, 19)}\\s`, 'm'));
    assert.match(tagged.stdout, new RegExp(`^seed/busybox\\s+latest\\s+${id.slice(7, 19)}\\s`, 'm'));

    const untag = await d.cli(['rmi', 'seed/busybox:v1']);
    assert.equal(untag.code, 0, untag.stderr);
    assert.match(untag.stdout, /Untagged: seed\/busybox:v1/);
    assert.doesNotMatch(untag.stdout, /Deleted/);
    const rmi = await d.cli(['rmi', 'seed/busybox']);
    assert.equal(rmi.code, 0, rmi.stderr);
    assert.match(rmi.stdout, /Untagged: seed\/busybox:latest/);
    assert.match(rmi.stdout, new RegExp(`Deleted: ${id}`));
    assert.doesNotMatch((await d.cli(['images'])).stdout, /seed\/busybox/);
    const gone = await d.cli(['rmi', 'seed/busybox']);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /No such image/);
  });

  it('stop ID: ps no longer lists it, ps -a shows it Exited', async () => {
    assert.ok(stopping, 'the first test started the stop');
    const stop = await stopping;
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(stop.stdout.trim(), first);
    const ps = await d.cli(['ps']);
    assert.doesNotMatch(ps.stdout, new RegExp(first.slice(0, 12)));
    assert.match(ps.stdout, new RegExp(`^${second.slice(0, 12)}\\s.*Up `, 'm'));
    const psa = await d.cli(['ps', '-a']);
    assert.match(psa.stdout, new RegExp(`^${first.slice(0, 12)}\\s.*Exited \\(137\\) .*ago`, 'm'));
    assert.equal((await d.cli(['rm', '-f', first, second])).code, 0);
  });
});
