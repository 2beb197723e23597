// Unit: the archive routes (HEAD/GET/PUT /containers/{id}/archive) over HTTP, against the fake
// engine: the stat header, Docker's errors, and dockerode's putArchive/getArchive.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { readTar, TarWriter } from '../../core/archive/index.js';
import { decodePathStat } from '../../core/archive/path-stat.js';
import { FakeEngine, startHarness, type Harness } from './fake-engine.js';

async function tarOf(files: Record<string, string>): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const writer = new TarWriter(out);
  for (const [path, text] of Object.entries(files)) await writer.add({ path, type: 'file', mode: 0o644, size: Buffer.byteLength(text) }, Buffer.from(text));
  await writer.finish();
  out.end();
  return Buffer.concat(chunks);
}

describe('the archive routes', () => {
  let h: Harness<FakeEngine>;
  let docker: Docker;
  before(async () => {
    h = await startHarness(new FakeEngine());
    docker = new Docker({ socketPath: h.socketPath });
  });
  after(() => h.close());

  it('PUT extracts, HEAD stats with the header, GET sends the tar with it', async () => {
    const put = await h.request('PUT', '/v1.50/containers/web/archive?path=%2F&noOverwriteDirNonDir=true', { body: await tarOf({ 'greeting.txt': 'hello\n' }), headers: { 'Content-Type': 'application/x-tar' } });
    assert.equal(put.status, 200, put.body.toString());
    assert.ok(h.engine.calls.includes('extract web / true false'));

    const head = await h.request('HEAD', '/v1.50/containers/web/archive?path=/greeting.txt');
    assert.equal(head.status, 200);
    const stat = decodePathStat(String(head.headers['x-docker-container-path-stat']));
    assert.deepEqual({ name: stat.name, size: stat.size, mode: stat.mode }, { name: 'greeting.txt', size: 6, mode: 0o644 });

    const { res } = await h.open('GET', '/containers/web/archive?path=/greeting.txt');
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'application/x-tar');
    assert.equal(decodePathStat(String(res.headers['x-docker-container-path-stat'])).name, 'greeting.txt');
    const names: string[] = [];
    for await (const { header, body } of readTar(res)) {
      for await (const chunk of body) void chunk;
      names.push(header.path);
    }
    assert.deepEqual(names, ['greeting.txt']);
  });

  it("answers Docker's 404 for a missing path (no body on HEAD) and a missing container, 400 without a path", async () => {
    const get = await h.request('GET', '/containers/web/archive?path=/nope');
    assert.equal(get.status, 404);
    assert.deepEqual(JSON.parse(get.body.toString()), { message: 'Could not find the file /nope in container web' });
    const head = await h.request('HEAD', '/containers/web/archive?path=/nope');
    assert.equal(head.status, 404);
    assert.equal(head.body.length, 0);
    const missing = await h.request('GET', '/containers/ghost/archive?path=/x');
    assert.equal(missing.status, 404);
    assert.match(JSON.parse(missing.body.toString()).message, /No such container: ghost/);
    const noPath = await h.request('PUT', '/containers/web/archive', { body: await tarOf({ a: 'a' }) });
    assert.equal(noPath.status, 400);
    assert.equal(JSON.parse(noPath.body.toString()).message, 'path cannot be empty');
  });

  it("serves dockerode's putArchive, getArchive and infoArchive", async () => {
    const container = docker.getContainer('web');
    await container.putArchive(await tarOf({ 'from-dockerode': 'dockerode\n' }), { path: '/' });
    // infoArchive hands back the HEAD response itself: the stat is its header.
    const response = (await container.infoArchive({ path: '/from-dockerode' })) as unknown as { headers: Record<string, string> };
    const info = decodePathStat(String(response.headers['x-docker-container-path-stat']));
    assert.equal(info.name, 'from-dockerode');
    assert.equal(info.size, 10);
    const stream = await container.getArchive({ path: '/from-dockerode' });
    const texts: string[] = [];
    for await (const { body } of readTar(stream)) {
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(chunk);
      texts.push(Buffer.concat(chunks).toString());
    }
    assert.deepEqual(texts, ['dockerode\n']);
  });
});
