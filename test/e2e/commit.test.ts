import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { DOCKER_CLIENT_MISSING, TestDaemon, dockerPart } from './harness.js';

const run = promisify(execFile);
const hasSkopeo = await run('skopeo', ['--version']).then(() => true, () => false);

describe('e2e: commit, export, save and load through bin/mini-docker and the docker CLI', () => {
  const d = new TestDaemon('commit');
  before(async () => { await d.start(); });
  after(async () => { await d.cleanup(); });

  it('commit makes an image with the changes, the -c config and the message; a container of it sees them', async (t) => {
    const maker = await d.cli(['run', '--name', 'maker', '-e', 'A=1', 'busybox', 'sh', '-c',
      'echo hi > /hello && rm /etc/group && rm -r /home && mkdir /home && touch /home/new']);
    assert.equal(maker.code, 0, maker.stderr);
    const commit = await d.cli(['commit', '-m', 'first', '-a', 'Ada', '-c', 'ENV B=2', '-c', 'WORKDIR /home', 'maker', 'snap:v1']);
    assert.equal(commit.code, 0, commit.stderr);
    assert.match(commit.stdout.trim(), /^sha256:[0-9a-f]{64}$/);
    const r = await d.cli(['run', '--rm', 'snap:v1', 'sh', '-c', 'cat /hello; test -e /etc/group && echo group || echo no-group; ls /home; echo "$A $B"; pwd']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hi\nno-group\nnew\n1 2\n/home\n');
    const diff = await d.cli(['diff', 'maker']);
    assert.equal(diff.code, 0, diff.stderr);
    assert.equal(diff.stdout, 'C /etc\nD /etc/group\nA /hello\nC /home\nA /home/new\n');
    const ours = await d.cli(['history', '--no-trunc', '--format', '{{.Comment}}|{{.CreatedBy}}', 'snap:v1']);
    assert.equal(ours.code, 0, ours.stderr);
    assert.match(ours.stdout.split('\n')[0]!, /^first\|sh -c echo hi > \/hello/);
    assert.equal((await d.cli(['history', '-q', 'snap:v1'])).stdout.split('\n')[0], (await d.cli(['inspect', '-f', '{{.Id}}', 'snap:v1'])).stdout.trim().slice(7, 19));
    await dockerPart(t, async () => {
      const history = await d.docker(['history', '--no-trunc', '--format', '{{.Comment}}|{{.CreatedBy}}', 'snap:v1']);
      assert.equal(history.code, 0, history.stderr);
      assert.match(history.stdout.split('\n')[0]!, /^first\|sh -c echo hi > \/hello/);
    });
  });

  it('docker commit of a running container (paused meanwhile) names the image with the familiar name', { skip: DOCKER_CLIENT_MISSING }, async () => {
    const live = await d.cli(['run', '-d', '--name', 'live', 'busybox', 'sh', '-c', 'echo live > /live; while true; do sleep 1; done']);
    assert.equal(live.code, 0, live.stderr);
    for (let i = 0; i < 50 && (await d.cli(['exec', 'live', 'cat', '/live'])).stdout !== 'live\n'; i++) await new Promise((r) => setTimeout(r, 100));
    const commit = await d.docker(['commit', 'live', 'snapshot']);
    assert.equal(commit.code, 0, commit.stderr);
    assert.match(commit.stdout.trim(), /^sha256:[0-9a-f]{64}$/);
    const images = await d.docker(['images', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.match(images.stdout, /^snapshot:latest$/m);
    assert.equal((await d.cli(['run', '--rm', 'snapshot', 'cat', '/live'])).stdout, 'live\n');
    const ps = await d.cli(['ps', '--format', '{{.Names}} {{.Status}}']);
    assert.match(ps.stdout, /live Up/);
    assert.equal((await d.cli(['rm', '-f', 'live'])).code, 0);
  });

  it('export writes the flat filesystem, which import turns back into a runnable image', async () => {
    const file = join(d.root, 'maker.tar');
    const exported = await d.cli(['export', '-o', file, 'maker']);
    assert.equal(exported.code, 0, exported.stderr);
    const { stdout: listing } = await run('tar', ['-tf', file], { maxBuffer: 16 << 20 });
    assert.match(listing, /^hello$/m);
    assert.match(listing, /^bin\/busybox$/m);
    assert.doesNotMatch(listing, /\.wh\./);
    assert.doesNotMatch(listing, /^etc\/group$/m);
    const imported = await d.cli(['import', file, 'flat:v1']);
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal((await d.cli(['run', '--rm', 'flat:v1', '/bin/cat', '/hello'])).stdout, 'hi\n');
  });

  it('save, rmi, load gives the same image back (mini-docker and the docker CLI)', async (t) => {
    const id = (await d.cli(['inspect', '--format', '{{.Id}}', 'snap:v1'])).stdout.trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    const file = join(d.root, 'snap.tar');
    assert.equal((await d.cli(['save', '-o', file, 'snap:v1'])).code, 0);
    if (hasSkopeo) {
      const { stdout } = await run('skopeo', ['inspect', '--config', '--raw', `docker-archive:${file}`]);
      assert.ok(stdout.includes('"B=2"'));
    }
    assert.equal((await d.cli(['rm', 'maker'])).code, 0);
    assert.equal((await d.cli(['rmi', 'snap:v1'])).code, 0);
    const loaded = await d.cli(['load', '-i', file]);
    assert.equal(loaded.code, 0, loaded.stderr);
    assert.match(loaded.stdout, /Loaded image: snap:v1/);
    assert.equal((await d.cli(['inspect', '--format', '{{.Id}}', 'snap:v1'])).stdout.trim(), id);
    assert.equal((await d.cli(['run', '--rm', 'snap:v1', 'cat', '/hello'])).stdout, 'hi\n');

    await dockerPart(t, async () => {
      const viaDocker = join(d.root, 'docker-save.tar');
      const saved = await d.docker(['save', '-o', viaDocker, 'snap:v1']);
      assert.equal(saved.code, 0, saved.stderr);
      assert.equal((await d.docker(['rmi', 'snap:v1'])).code, 0);
      const dockerLoad = await d.docker(['load', '-i', viaDocker]);
      assert.equal(dockerLoad.code, 0, dockerLoad.stderr);
      assert.match(dockerLoad.stdout, /Loaded image: snap:v1/);
      assert.equal((await d.docker(['inspect', '--format', '{{.Id}}', 'snap:v1'])).stdout.trim(), id);
    });
  });

  it('import and load of a file that is not an archive, or is missing: one clear line, nothing made', async () => {
    const junk = join(d.root, 'junk.bin');
    writeFileSync(junk, randomBytes(3 << 20)); // larger than the socket buffers: the daemon answers while the CLI still sends
    const before = (await d.cli(['images', '-q'])).stdout;
    for (const args of [['import', junk, 'junk:1'], ['load', '-i', junk]]) {
      const r = await d.cli(args);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^Error: (the layer|invalid image archive): not a valid tar archive|^Error: invalid image archive:/, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    for (const args of [['import', join(d.root, 'nope.tar')], ['load', '-i', join(d.root, 'nope.tar')]]) {
      const r = await d.cli(args);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, `Error: open ${join(d.root, 'nope.tar')}: no such file or directory\n`);
    }
    assert.equal((await d.cli(['images', '-q'])).stdout, before);
  });

  it('image prune -a removes every image no container uses; rmi -f of an image a running container uses only untags it', async () => {
    assert.equal((await d.cli(['run', '-d', '--name', 'keeper', 'flat:v1', '/bin/sleep', '1000'])).code, 0);
    const snapId = (await d.cli(['inspect', '-f', '{{.Id}}', 'snap:v1'])).stdout.trim();
    const pruned = await d.cli(['image', 'prune', '-a', '-f']);
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.match(pruned.stdout, /untagged: snap:v1\n/);
    assert.match(pruned.stdout, new RegExp(`deleted: ${snapId}\n`));
    assert.match(pruned.stdout, /Total reclaimed space: [1-9]/);
    assert.equal((await d.cli(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout, 'flat:v1\n', 'only the image in use is left');
    const rmi = await d.cli(['rmi', '-f', 'flat:v1']);
    assert.equal(rmi.code, 0, rmi.stderr);
    assert.equal(rmi.stdout, 'Untagged: flat:v1\n');
    assert.equal((await d.cli(['ps', '--filter', 'name=keeper', '--format', '{{.Status}}'])).stdout.startsWith('Up'), true);
    assert.equal((await d.cli(['images', '-q'])).stdout.trim().length, 12, 'the image stays, untagged');
    assert.equal((await d.cli(['rm', '-f', 'keeper'])).code, 0);
  });
});
