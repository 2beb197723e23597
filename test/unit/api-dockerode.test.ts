// Unit: dockerode 4 (unversioned paths, true/false booleans, 200 attach, hijacked exec) against the API
// server and the real engine on in-memory drivers.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import Docker from 'dockerode';
import type { ContainerEngine } from '../../core/engine/container-engine.js';
import { serveSeededRig, type Harness } from './api-harness.js';

function collect(stream: PassThrough): () => string {
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  return () => text;
}

describe('dockerode against the API server', () => {
  let h: Harness<ContainerEngine>;
  let docker: Docker;
  serveSeededRig((s) => {
    ({ h } = s);
    docker = new Docker({ socketPath: h.socketPath });
  });

  it('ping, version, listContainers, inspect', async () => {
    assert.equal(String(await docker.ping()), 'OK');
    assert.equal((await docker.version()).ApiVersion, '1.50');
    const list = await docker.listContainers({ all: true, filters: { status: ['exited'] } });
    assert.deepEqual(list.map((c) => c.Names[0]), ['/old']);
    const info = await docker.getContainer('web').inspect();
    assert.equal(info.State.Running, true);
    assert.equal(info.Config.Tty, false);
  });

  it('run: create, 200 attach, start, wait after start (a fast exit already counts)', async () => {
    // dockerode's default is Tty: true (raw bytes).
    const out = new PassThrough();
    const text = collect(out);
    const [result] = (await docker.run('busybox', ['echo', 'from', 'dockerode'], out)) as [{ StatusCode: number }];
    assert.equal(result.StatusCode, 0);
    assert.equal(text(), 'from dockerode\n');
    // Without a TTY the 200 stream is framed, and dockerode demuxes it.
    const [stdout, stderr] = [new PassThrough(), new PassThrough()];
    const [outText, errText] = [collect(stdout), collect(stderr)];
    const [framed] = (await docker.run('busybox', ['echo', 'framed'], [stdout, stderr], { Tty: false })) as [{ StatusCode: number }];
    assert.equal(framed.StatusCode, 0);
    assert.equal(outText(), 'framed\n');
    assert.equal(errText(), '');
  });

  it('errors carry the message and the status code', async () => {
    await assert.rejects(docker.getContainer('nosuch').remove(), (err: { statusCode?: number; message: string }) => {
      assert.equal(err.statusCode, 404);
      assert.match(err.message, /No such container: nosuch/);
      return true;
    });
  });

  it('exec with hijack: stdin, half-close, output, exit code', async () => {
    const exec = await docker.getContainer('web').exec({ Cmd: ['cat'], AttachStdin: true, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: true });
    const stdout = new PassThrough();
    const text = collect(stdout);
    docker.modem.demuxStream(stream, stdout, new PassThrough());
    stream.write('via dockerode\n');
    stream.end();
    await new Promise<void>((resolve) => stream.on('end', () => resolve()));
    assert.equal(text(), 'via dockerode\n');
    assert.equal((await exec.inspect()).ExitCode, 0);
  });

  it('getEvents with since/until ends at until', async () => {
    const stream = (await docker.getEvents({ since: 1700000000, until: Math.floor(Date.now() / 1000) + 1, filters: { event: ['oom'] } })) as NodeJS.ReadableStream;
    let text = '';
    for await (const c of stream) text += c.toString();
    const events = text.trim().split('\n').map((l) => JSON.parse(l) as { Action: string });
    assert.deepEqual(events.map((e) => e.Action), ['oom']);
  });
});
