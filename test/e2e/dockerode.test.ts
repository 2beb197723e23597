import assert from 'node:assert/strict';
import { createReadStream, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { TestDaemon } from './harness.js';

/** Issue 7 through dockerode 4 (unversioned paths, 200 attach, hijacked exec) against a real mini-dockerd. */

function collect(stream: PassThrough): () => string {
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  return () => text;
}

/** A non-TTY logs body (stdcopy frames) split into its streams. */
function demux(body: Buffer): { stdout: string; stderr: string } {
  const out = { stdout: '', stderr: '' };
  for (let at = 0; at + 8 <= body.length;) {
    const size = body.readUInt32BE(at + 4);
    const text = body.subarray(at + 8, at + 8 + size).toString();
    if (body[at] === 1) out.stdout += text;
    else if (body[at] === 2) out.stderr += text;
    at += 8 + size;
  }
  return out;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream as Readable) text += String(chunk);
  return text;
}

describe('e2e: dockerode against mini-dockerd', () => {
  const d = new TestDaemon('dockerode');
  let docker: Docker;
  const since = Math.floor(Date.now() / 1000) - 1;

  before(async () => {
    await d.start();
    docker = new Docker({ socketPath: d.socketPath });
  });
  after(async () => { await d.cleanup(); });

  it('ping and version', async () => {
    assert.equal(String(await docker.ping()), 'OK');
    const version = await docker.version();
    assert.equal(version.ApiVersion, '1.50');
    assert.equal(version.Os, 'linux');
  });

  it('createContainer, start, wait, logs (framed), remove', async () => {
    const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'echo out; echo err >&2; exit 4'] });
    await c.start();
    assert.deepEqual(await c.wait(), { StatusCode: 4, Error: null });
    const logs = await c.logs({ stdout: true, stderr: true, follow: false });
    assert.deepEqual(demux(logs), { stdout: 'out\n', stderr: 'err\n' });
    await c.remove();
    await assert.rejects(c.inspect(), (err: { statusCode?: number; message: string }) => err.statusCode === 404 && /No such container/.test(err.message));
  });

  it('run with a Tty (raw bytes, its own terminal) and without (demuxed)', async () => {
    const out = new PassThrough();
    const text = collect(out);
    const [tty, ttyContainer] = (await docker.run('busybox', ['sh', '-c', 'echo hi; tty'], out, { Tty: true })) as [{ StatusCode: number }, Docker.Container];
    assert.equal(tty.StatusCode, 0);
    assert.equal(text(), 'hi\r\n/dev/pts/0\r\n');
    await ttyContainer.remove();

    const [stdout, stderr] = [new PassThrough(), new PassThrough()];
    const [outText, errText] = [collect(stdout), collect(stderr)];
    const [plain, plainContainer] = (await docker.run('busybox', ['sh', '-c', 'echo o; echo e >&2; exit 2'], [stdout, stderr], { Tty: false })) as [{ StatusCode: number }, Docker.Container];
    assert.equal(plain.StatusCode, 2);
    assert.deepEqual([outText(), errText()], ['o\n', 'e\n']);
    await plainContainer.remove();
  });

  it('exec with hijack and stdin, listContainers, inspect, stop, remove', async () => {
    const web = await docker.createContainer({ Image: 'busybox', Cmd: ['sleep', '1000'], name: 'dweb' });
    await web.start();
    const exec = await web.exec({ Cmd: ['sh', '-c', 'cat; echo after eof'], AttachStdin: true, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: true });
    const stdout = new PassThrough();
    const text = collect(stdout);
    docker.modem.demuxStream(stream, stdout, new PassThrough());
    const ended = new Promise<void>((resolve) => stream.on('end', () => resolve()));
    stream.write('via dockerode\n');
    stream.end();
    await ended;
    assert.equal(text(), 'via dockerode\nafter eof\n');
    assert.equal((await exec.inspect()).ExitCode, 0);

    const list = await docker.listContainers();
    assert.deepEqual(list.map((c) => [c.Names, c.State, c.Image]), [[['/dweb'], 'running', 'busybox']]);
    const info = await web.inspect();
    assert.equal(info.State.Running, true);
    assert.equal(info.Config.Tty, false);
    assert.equal(info.Name, '/dweb');
    await web.stop({ t: 1 });
    const stopped = await web.inspect();
    assert.equal(stopped.State.Status, 'exited');
    assert.equal(stopped.State.ExitCode, 137);
    await web.remove();
    assert.deepEqual(await docker.listContainers({ all: true }), []);
  });

  it('listImages; export a container and importImage it back', async () => {
    const images = await docker.listImages();
    assert.ok(images.some((i) => i.RepoTags?.includes('busybox:latest')), JSON.stringify(images));

    const maker = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'echo made > /made'] });
    await maker.start();
    await maker.wait();
    const file = join(d.root, 'maker.tar');
    await pipeline(await maker.export(), createWriteStream(file));
    await maker.remove();

    const progress = await docker.importImage(createReadStream(file), { repo: 'dimp', tag: 'v1' });
    const lines = (await readAll(progress)).split(/\r?\n/).filter((l) => l !== '').map((l) => JSON.parse(l) as { status?: string; error?: string });
    assert.match(lines.at(-1)?.status ?? '', /^sha256:[0-9a-f]{64}$/, JSON.stringify(lines));
    assert.ok((await docker.listImages()).some((i) => i.RepoTags?.includes('dimp:v1')));

    const out = new PassThrough();
    const text = collect(out);
    const [r, c] = (await docker.run('dimp:v1', ['cat', '/made'], [out, new PassThrough()], { Tty: false })) as [{ StatusCode: number }, Docker.Container];
    assert.equal(r.StatusCode, 0);
    assert.equal(text(), 'made\n');
    await c.remove();
    await docker.getImage('dimp:v1').remove();
  });

  it('getEvents with since and until ends after the backlog, in Docker\'s shape', async () => {
    const stream = await docker.getEvents({ since, until: Math.floor(Date.now() / 1000) });
    const events = (await readAll(stream)).trim().split('\n').map((l) => JSON.parse(l) as { Type: string; Action: string; Actor: { Attributes: Record<string, string> } });
    const dweb = events.filter((e) => e.Type === 'container' && e.Actor.Attributes.name === 'dweb').map((e) => e.Action);
    assert.deepEqual(dweb.filter((a) => !a.startsWith('exec_') && a !== 'kill'), ['create', 'start', 'stop', 'die', 'destroy']);
    assert.ok(dweb.includes('exec_create: sh -c cat; echo after eof'), dweb.join());
    assert.ok(events.some((e) => e.Type === 'image' && e.Action === 'import'), 'the import is an image event');
  });
});
