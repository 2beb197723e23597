// Unit: the API server over a real unix socket, with the real engine on in-memory drivers behind it.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import * as http from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createApiServer } from '../../core/api/api-server.js';
import type { ContainerEngine } from '../../core/engine/container-engine.js';
import { buildTar } from '../fixtures/tar-builder.js';
import { serveSeededRig, type EngineCall, type Harness } from './api-harness.js';
import { seededRig, type EngineRig, type Seeded } from './engine-rig.js';

function json(body: Buffer): unknown {
  return JSON.parse(body.toString('utf8'));
}

describe('API server: transport rules', () => {
  let rig: EngineRig & { readonly ids: Seeded };
  let h: Harness<ContainerEngine>;
  serveSeededRig((s) => { ({ rig, h } = s); });

  it('HEAD and GET /_ping answer 200 with the headers the CLI reads', async () => {
    for (const method of ['HEAD', 'GET']) {
      const r = await h.request(method, '/_ping');
      assert.equal(r.status, 200);
      assert.equal(r.headers['api-version'], '1.50');
      assert.equal(r.headers['ostype'], 'linux');
      assert.equal(r.headers['docker-experimental'], 'false');
      assert.equal(r.headers['server'], 'mini-dockerd/0.1.0-test (linux)');
      assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(r.body.toString(), method === 'GET' ? 'OK' : '');
    }
  });

  it('every response carries Api-Version, Ostype and Server', async () => {
    const r = await h.request('GET', '/v1.50/containers/json');
    assert.equal(r.headers['api-version'], '1.50');
    assert.equal(r.headers['ostype'], 'linux');
    assert.match(String(r.headers['server']), /^mini-dockerd\//);
  });

  it('accepts versioned and unversioned paths; rejects versions out of range like moby', async () => {
    assert.equal((await h.request('GET', '/version')).status, 200);
    assert.equal((await h.request('GET', '/v1.24/version')).status, 200);
    const old = await h.request('GET', '/v1.12/version');
    assert.equal(old.status, 400);
    assert.match((json(old.body) as { message: string }).message, /^client version 1.12 is too old\. Minimum supported API version is 1.24/);
    const newer = await h.request('GET', '/v1.51/version');
    assert.equal(newer.status, 400);
    assert.equal(newer.headers['content-type'], 'application/json');
  });

  it('errors are {"message"} with Content-Type exactly application/json', async () => {
    const r = await h.request('DELETE', '/v1.50/containers/nosuch');
    assert.equal(r.status, 404);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.deepEqual(json(r.body), { message: 'No such container: nosuch' });
  });

  it('unknown routes, and the probes docker inspect makes, are 404 page not found', async () => {
    for (const path of ['/v1.50/nope', '/v1.50/networks/x', '/v1.50/plugins/x/json']) {
      const r = await h.request('GET', path);
      assert.equal(r.status, 404, path);
      assert.equal(r.headers['content-type'], 'application/json');
      assert.deepEqual(json(r.body), { message: 'page not found' });
    }
    const volume = await h.request('GET', '/v1.50/volumes/x');
    assert.equal(volume.status, 404, 'docker inspect probes volumes too: a 404 in Docker\'s words');
    assert.deepEqual(json(volume.body), { message: 'get x: no such volume' });
  });

  it('/version has the CLI server block; /info has Docker fields, our plugins and tinyDocker', async () => {
    const v = json((await h.request('GET', '/v1.50/version')).body) as Record<string, unknown>;
    assert.equal(v.ApiVersion, '1.50');
    assert.equal(v.MinAPIVersion, '1.24');
    const details = (v.Components as { Details: Record<string, unknown> }[])[0]!.Details;
    assert.equal(details.ApiVersion, '1.50');
    assert.equal(typeof details.Experimental, 'string');
    const info = json((await h.request('GET', '/info')).body) as Record<string, unknown>;
    assert.equal(info.Containers, 3);
    assert.equal(info.ContainersRunning, 2);
    assert.equal(info.Images, 1);
    assert.equal(info.OSType, 'linux');
    assert.deepEqual((info.Swarm as Record<string, unknown>).LocalNodeState, 'inactive');
    assert.deepEqual((info.Plugins as Record<string, unknown>).Log, ['json-file', 'none']);
    assert.equal((info.tinyDocker as { plugins: unknown[] }).plugins.length, 7);
  });

  it('a server error is a 500 with the message and no stack', async () => {
    const engine = rig.engine;
    const original = engine.info.bind(engine);
    engine.info = () => {
      throw new Error('disk on fire');
    };
    try {
      const r = await h.request('GET', '/info');
      assert.equal(r.status, 500);
      assert.deepEqual(json(r.body), { message: 'disk on fire' });
    } finally {
      engine.info = original;
    }
  });
});

describe('API server: containers', () => {
  let rig: EngineRig & { readonly ids: Seeded };
  let calls: EngineCall[];
  let h: Harness<ContainerEngine>;
  serveSeededRig((s) => { ({ rig, h, calls } = s); }, { record: true });

  it('ps lists running containers by default and all with all=1, newest first, names with a slash', async () => {
    const running = json((await h.request('GET', '/v1.50/containers/json')).body) as { Names: string[]; Status: string }[];
    assert.deepEqual(running.map((c) => c.Names[0]), ['/term', '/web']);
    assert.match(running[1]!.Status, /^Up (Less than a second|\d+ seconds?)$/);
    const all = json((await h.request('GET', '/v1.50/containers/json?all=1')).body) as { Names: string[]; Status: string }[];
    assert.deepEqual(all.map((c) => c.Names[0]), ['/term', '/web', '/old']);
    assert.match(all[2]!.Status, /^Exited \(137\) (Less than a second|\d+ seconds?) ago$/);
    const limited = json((await h.request('GET', '/v1.50/containers/json?limit=1')).body) as unknown[];
    assert.equal(limited.length, 1);
  });

  it('ps filters: status, name, label, ancestor, id', async () => {
    const names = async (filters: string): Promise<string[]> => {
      const r = await h.request('GET', `/v1.50/containers/json?all=1&filters=${encodeURIComponent(filters)}`);
      assert.equal(r.status, 200, r.body.toString());
      return (json(r.body) as { Names: string[] }[]).map((c) => c.Names[0]!);
    };
    assert.deepEqual(await names('{"status":{"exited":true}}'), ['/old']);
    assert.deepEqual(await names('{"name":{"we":true}}'), ['/web']);
    assert.deepEqual(await names('{"label":{"app=web":true}}'), ['/web']);
    assert.deepEqual(await names('{"label":{"app=web":true,"app":true}}'), ['/web'], 'every label filter must match (docker-compose: project and service)');
    assert.deepEqual(await names('{"label":{"app=web":true,"app=db":true}}'), []);
    assert.deepEqual(await names('{"ancestor":{"busybox:latest":true}}'), ['/term', '/web', '/old']);
    assert.deepEqual(await names(`{"id":["${rig.ids.web.slice(0, 6)}"]}`), ['/web']);
    assert.equal((await h.request('GET', `/containers/json?filters=${encodeURIComponent('{"bogus":{"x":true}}')}`)).status, 400);
  });

  it('inspect by name, id and prefix; 404 for unknown', async () => {
    for (const ref of ['web', '/web', rig.ids.web, rig.ids.web.slice(0, 8)]) {
      const r = await h.request('GET', `/v1.50/containers/${encodeURIComponent(ref)}/json`);
      assert.equal(r.status, 200, ref);
      const body = json(r.body) as { Id: string; Config: { Tty: boolean } };
      assert.equal(body.Id, rig.ids.web);
      assert.equal(body.Config.Tty, false);
    }
    assert.equal((await h.request('GET', '/v1.50/containers/zzz/json')).status, 404);
  });

  it('create maps the body and answers 201 {Id, Warnings}; a missing image is the only 404', async () => {
    const body = JSON.stringify({ Image: 'busybox', Cmd: ['sleep', '5'], Tty: false, HostConfig: { Memory: 8388608, NanoCpus: 5e8, AutoRemove: true, NetworkMode: 'default' } });
    const r = await h.request('POST', '/v1.50/containers/create?name=job1', { headers: { 'Content-Type': 'application/json' }, body });
    assert.equal(r.status, 201, r.body.toString());
    const created = json(r.body) as { Id: string; Warnings: string[] };
    assert.match(created.Id, /^[0-9a-f]{64}$/);
    assert.deepEqual(created.Warnings, []);
    const c = h.engine.container('job1');
    assert.equal(c.hostConfig.Memory, 8388608);
    assert.equal(c.hostConfig.NanoCpus, 5e8);
    assert.equal(c.hostConfig.AutoRemove, true);
    const dup = await h.request('POST', '/v1.50/containers/create?name=job1', { body });
    assert.equal(dup.status, 409);
    assert.match((json(dup.body) as { message: string }).message, /^Conflict\. The container name "\/job1" is already in use/);
    const noImage = await h.request('POST', '/v1.50/containers/create', { body: JSON.stringify({ Image: 'notpulled:1.0' }) });
    assert.equal(noImage.status, 404);
    assert.deepEqual(json(noImage.body), { message: 'No such image: notpulled:1.0' });
    const bad = await h.request('POST', '/v1.50/containers/create', { body: '{"Image":' });
    assert.equal(bad.status, 400);
  });

  it('start 204 then 304 with no body; kill of a stopped container 409; stop of a stopped one 304', async () => {
    await h.request('POST', '/containers/create?name=life', { body: JSON.stringify({ Image: 'busybox', Cmd: ['sleep', '100'] }) });
    assert.equal((await h.request('POST', '/v1.50/containers/life/start')).status, 204);
    const again = await h.request('POST', '/v1.50/containers/life/start');
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
    assert.equal((await h.request('POST', '/v1.50/containers/life/kill?signal=TERM')).status, 204);
    assert.ok(calls.some((c) => c.method === 'killContainer' && c.args[0] === 'life' && /^(SIG)?TERM$/.test(String(c.args[1]))), calls.map((c) => c.method).join(', '));
    const kill = await h.request('POST', '/v1.50/containers/life/kill');
    assert.equal(kill.status, 409);
    assert.match((json(kill.body) as { message: string }).message, /is not running$/);
    assert.equal((await h.request('POST', '/v1.50/containers/life/stop?t=3')).status, 304);
    const bad = await h.request('POST', '/v1.50/containers/web/kill?signal=NOPE');
    assert.equal(bad.status, 400);
  });

  it('rm of a running container without force is 409 with moby message; with force 204', async () => {
    await h.request('POST', '/containers/create?name=victim', { body: JSON.stringify({ Image: 'busybox', Cmd: ['sleep', '100'] }) });
    await h.request('POST', '/containers/victim/start');
    const r = await h.request('DELETE', '/v1.50/containers/victim');
    assert.equal(r.status, 409);
    assert.deepEqual(json(r.body), { message: 'cannot remove container "/victim": container is running: stop the container before removing or force remove' });
    assert.equal((await h.request('DELETE', '/v1.50/containers/victim?force=1&v=1')).status, 204);
    assert.equal((await h.request('GET', '/v1.50/containers/victim/json')).status, 404);
  });

  it('a failed start answers with the message the CLI maps to exit 127', async () => {
    await h.request('POST', '/containers/create?name=broken', { body: JSON.stringify({ Image: 'busybox', Cmd: ['nosuch'] }) });
    const r = await h.request('POST', '/v1.50/containers/broken/start');
    assert.equal(r.status, 400);
    assert.match((json(r.body) as { message: string }).message, /executable file not found/);
  });

  it('resize, top, update, rename, pause and unpause', async () => {
    assert.equal((await h.request('POST', '/v1.50/containers/web/resize?h=40&w=120')).status, 200);
    assert.ok(calls.some((c) => c.method === 'resizeContainer' && c.args.join(' ') === 'web 40 120'));
    assert.equal((await h.request('POST', '/v1.50/containers/web/resize?h=x&w=1')).status, 400);
    // A real process in the web container's (fake) cgroup: this test's own.
    const [cgroup] = rig.engine.context.limiter()!.paths(rig.ids.web);
    await rig.cgroups.set(join(cgroup!, 'cgroup.procs'), `${process.pid}\n`);
    const top = json((await h.request('GET', '/v1.50/containers/web/top?ps_args=-o%20pid,comm')).body) as { Titles: string[]; Processes: string[][] };
    assert.deepEqual(top.Titles, ['PID', 'COMMAND']);
    assert.deepEqual(top.Processes, [[String(process.pid), 'node']]);
    const up = await h.request('POST', '/v1.50/containers/web/update', { body: JSON.stringify({ Memory: 67108864, CpuShares: 256, RestartPolicy: { Name: '' } }) });
    assert.equal(up.status, 200);
    assert.deepEqual(json(up.body), { Warnings: [] });
    assert.equal(h.engine.container('web').hostConfig.Memory, 67108864);
    assert.equal((await h.request('POST', '/v1.50/containers/term/rename?name=term2')).status, 204);
    assert.equal(h.engine.container('term2').name, 'term2');
    assert.equal((await h.request('POST', '/v1.50/containers/term2/pause')).status, 204);
    assert.equal(h.engine.container('term2').status, 'paused');
    assert.equal((await h.request('POST', '/v1.50/containers/term2/unpause')).status, 204);
  });

  it('stats: one reading with stream=0&one-shot=1, Docker shape; zeros for an exited container', async () => {
    const [cgroup] = rig.engine.context.limiter()!.paths(rig.ids.web);
    await rig.cgroups.set(join(cgroup!, 'memory.current'), '1048576\n');
    await rig.cgroups.set(join(cgroup!, 'cpu.stat'), 'usage_usec 2000\nuser_usec 1000\nsystem_usec 1000\n');
    const r = await h.request('GET', '/v1.50/containers/web/stats?stream=0&one-shot=1');
    assert.equal(r.status, 200);
    const s = json(r.body) as Record<string, { cpu_usage?: { total_usage: number }; usage?: number; limit?: number }>;
    assert.ok((s.cpu_stats!.cpu_usage!.total_usage) > 0);
    assert.equal(s.memory_stats!.usage, 1_048_576);
    const old = json((await h.request('GET', '/v1.50/containers/old/stats?stream=0')).body) as Record<string, unknown>;
    assert.equal(old.read, '0001-01-01T00:00:00Z');
  });

  it('stats stream=1 sends a reading per second until the client leaves', async () => {
    const { res, req } = await h.open('GET', '/v1.50/containers/web/stats?stream=1');
    assert.equal(res.statusCode, 200);
    const lines = await new Promise<string[]>((resolve) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
        const parts = text.split('\n').filter((l) => l !== '');
        if (parts.length >= 2) resolve(parts);
      });
    });
    req.destroy();
    const second = JSON.parse(lines[1]!) as { precpu_stats: { cpu_usage: { total_usage: number } } };
    assert.ok(second.precpu_stats.cpu_usage.total_usage > 0);
  });

  it('export streams application/x-tar; prune reports what was removed', async () => {
    const r = await h.request('GET', '/v1.50/containers/web/export');
    assert.equal(r.headers['content-type'], 'application/x-tar');
    assert.ok(r.body.length >= 1024 && r.body.length % 512 === 0, 'a tar');
    const p = json((await h.request('POST', '/v1.50/containers/prune')).body) as { ContainersDeleted: string[]; SpaceReclaimed: number };
    assert.ok(p.ContainersDeleted.length >= 1);
    assert.equal(p.SpaceReclaimed, 0);
  });
});

describe('API server: wait', () => {
  let rig: EngineRig & { readonly ids: Seeded };
  let calls: EngineCall[];
  let h: Harness<ContainerEngine>;
  serveSeededRig((s) => { ({ rig, h, calls } = s); }, { record: true });

  it('sends 200 headers at once, and the body only when the container exits', async () => {
    await h.request('POST', '/containers/create?name=w1', { body: JSON.stringify({ Image: 'busybox', Cmd: ['sleep', '100'] }) });
    const { res } = await h.open('POST', '/v1.50/containers/w1/wait?condition=next-exit');
    // Headers arrived while the container was merely created: the CLI can now send start.
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'application/json');
    assert.equal(h.engine.container('w1').status, 'created');
    await h.request('POST', '/containers/w1/start');
    const bodyPromise = (async () => {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString();
    })();
    setTimeout(() => rig.isolator.exitOnItsOwn(h.engine.container('w1').id, 3), 30);
    assert.equal(await bodyPromise, '{"StatusCode":3,"Error":null}\n');
  });

  it('not-running returns at once for an exited container; unknown ids are 404 before headers', async () => {
    const r = await h.request('POST', '/containers/old/wait');
    assert.equal(r.body.toString(), '{"StatusCode":137,"Error":null}\n');
    assert.equal((await h.request('POST', '/containers/nosuch/wait')).status, 404);
    assert.equal((await h.request('POST', '/containers/old/wait?condition=bogus')).status, 400);
  });

  it('a client that drops the connection aborts the engine wait', async () => {
    const { req } = await h.open('POST', '/v1.50/containers/web/wait?condition=next-exit');
    const waited = calls.findLast((c) => c.method === 'waitContainer' && c.args[1] === 'next-exit');
    const signal = waited?.args[2];
    assert.ok(signal instanceof AbortSignal, 'the server gave the engine a signal');
    req.destroy();
    for (let i = 0; i < 50 && !signal.aborted; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(signal.aborted, true);
  });

  it('condition=removed answers with the real exit code after auto-remove', async () => {
    await h.request('POST', '/containers/create?name=rm1', { body: JSON.stringify({ Image: 'busybox', Cmd: ['nosuch'], HostConfig: { AutoRemove: true } }) });
    const { res } = await h.open('POST', '/v1.50/containers/rm1/wait?condition=removed');
    assert.equal(res.statusCode, 200);
    const start = await h.request('POST', '/containers/rm1/start');
    assert.equal(start.status, 400);
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), '{"StatusCode":127,"Error":null}\n');
  });
});

describe('API server: images', () => {
  let calls: EngineCall[];
  let h: Harness<ContainerEngine>;
  serveSeededRig((s) => { ({ h, calls } = s); }, { record: true });

  it('images/json and inspect (also by fully qualified name), history', async () => {
    const list = json((await h.request('GET', '/v1.50/images/json')).body) as { Id: string; RepoTags: string[]; Containers: number }[];
    const busybox = h.engine.image('busybox').id;
    assert.deepEqual(list.map((i) => [i.Id, i.RepoTags]), [[busybox, ['busybox:latest']]]);
    assert.equal(list[0]!.Containers, 3);
    for (const ref of ['busybox', 'busybox:latest', 'docker.io/library/busybox:latest', busybox]) {
      const r = await h.request('GET', `/v1.50/images/${ref}/json`);
      assert.equal(r.status, 200, ref);
      const img = json(r.body) as { Id: string; RootFS: { Type: string; Layers: string[] }; Os: string; Comment: string };
      assert.equal(img.Id, busybox);
      assert.equal(img.RootFS.Type, 'layers');
      assert.equal(img.Os, 'linux');
      assert.equal(img.RootFS.Layers.length, 1);
    }
    const missing = await h.request('GET', '/v1.50/images/alpine/json');
    assert.equal(missing.status, 404);
    assert.deepEqual(json(missing.body), { message: 'No such image: alpine:latest' });
    const history = json((await h.request('GET', '/v1.50/images/busybox/history')).body) as { Id: string }[];
    assert.equal(history[0]!.Id, busybox);
  });

  it('import: chunked tar body streamed into the engine, last line {"status":"sha256:..."}', async () => {
    const tar = await buildTar([[{ path: 'bin', type: 'directory' }], [{ path: 'bin/tool', type: 'file', mode: 0o755 }, 'x'.repeat(3000)]]);
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request({ socketPath: h.socketPath, method: 'POST', path: '/v1.50/images/create?fromSrc=-&repo=imp%3Av1', headers: { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' } }, resolve);
      req.on('error', reject);
      req.write(tar.subarray(0, 1000));
      req.end(tar.subarray(1000));
    });
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const lines = Buffer.concat(chunks).toString().split('\r\n').filter((l) => l !== '');
    const last = JSON.parse(lines[lines.length - 1]!) as { status: string };
    assert.match(last.status, /^sha256:[0-9a-f]{64}$/);
    assert.ok(calls.some((c) => c.method === 'importImage' && JSON.stringify(c.args[1]) === '{"repo":"imp:v1"}'), calls.map((c) => c.method).join(', '));
    assert.equal(h.engine.image('imp:v1').layers[0]!.size, tar.length);
    assert.deepEqual(h.engine.image('imp:v1').tags, ['imp:v1']);
  });

  it('a pull without a distribution driver is a 501 saying so, before any stream', async () => {
    const r = await h.request('POST', '/v1.50/images/create?fromImage=docker.io%2Flibrary%2Falpine&tag=3.19', { headers: { 'X-Registry-Auth': 'e30=' } });
    assert.equal(r.status, 501);
    assert.deepEqual(json(r.body), { message: 'pulling images needs a distribution driver, and none is loaded: see `mini-docker info`' });
  });

  it('tag (repo arrives fully qualified), rmi, save, load, prune', async () => {
    assert.equal((await h.request('POST', '/v1.50/images/busybox/tag?repo=docker.io%2Flibrary%2Fbb&tag=v2')).status, 201);
    assert.ok(h.engine.image('busybox').tags.includes('bb:v2'));
    const save = await h.request('GET', '/v1.50/images/get?names=busybox&names=bb%3Av2');
    assert.equal(save.headers['content-type'], 'application/x-tar');
    assert.ok(save.body.length >= 1024 && save.body.length % 512 === 0, 'a tar');
    assert.equal((await h.request('GET', '/v1.50/images/nope/get')).status, 404);
    const load = await h.request('POST', '/v1.50/images/load?quiet=0', { body: save.body });
    const loaded = load.body.toString().split('\r\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { stream?: string }).stream).filter((l) => l !== undefined);
    assert.deepEqual(loaded.sort(), ['Loaded image: bb:v2\n', 'Loaded image: busybox:latest\n']);
    const conflict = await h.request('DELETE', `/v1.50/images/${h.engine.image('busybox').id}`);
    assert.equal(conflict.status, 409, 'containers use it, and it has two names');
    const removed = await h.request('DELETE', '/v1.50/images/imp:v1');
    assert.equal(removed.status, 200);
    assert.deepEqual((json(removed.body) as Record<string, string>[])[0], { Untagged: 'imp:v1' });
    assert.deepEqual(json((await h.request('POST', '/v1.50/images/prune')).body), { ImagesDeleted: [], SpaceReclaimed: 0 });
  });

  it('commit: fully qualified repo → familiar, changes repeated, pause default true; 201 {"Id":"sha256:..."}', async () => {
    const r = await h.request('POST', '/v1.50/commit?author=me&comment=snap&container=web&repo=docker.io%2Flibrary%2Fsnap&tag=v1&changes=ENV+A%3D1&changes=CMD+%5B%22sh%22%5D');
    assert.equal(r.status, 201);
    assert.match((json(r.body) as { Id: string }).Id, /^sha256:[0-9a-f]{64}$/);
    const call = calls.find((c) => c.method === 'commitContainer' && c.args[0] === 'web');
    assert.deepEqual(call?.args[1], { repo: 'snap', tag: 'v1', comment: 'snap', author: 'me', changes: ['ENV A=1', 'CMD ["sh"]'], pause: true });
    assert.deepEqual(h.engine.image('snap:v1').config.Cmd, ['sh']);
    const noPause = await h.request('POST', '/v1.50/commit?container=web&repo=&tag=&pause=0');
    assert.equal(noPause.status, 201);
    assert.deepEqual(calls.findLast((c) => c.method === 'commitContainer')?.args[1], { pause: false });
  });
});

describe('API server: tiny-docker extensions', () => {
  let h: Harness<ContainerEngine>;
  serveSeededRig((s) => { ({ h } = s); });

  it('/tiny/replay gives the state as of a position; /tiny/plugins the plugin list', async () => {
    const r = json((await h.request('GET', '/tiny/replay?until=2')).body) as { containers: Record<string, unknown>; images: Record<string, { tags: string[] }>; position: number };
    assert.equal(r.position, 2);
    assert.deepEqual(Object.keys(r.containers), []);
    assert.deepEqual(r.images[h.engine.image('busybox').id]!.tags, ['busybox:latest']);
    const now = json((await h.request('GET', '/tiny/replay')).body) as { containers: Record<string, unknown> };
    assert.equal(Object.keys(now.containers).length, 3);
    assert.equal((await h.request('GET', '/tiny/replay?until=yesterday')).status, 400);
    const plugins = json((await h.request('GET', '/v1.50/tiny/plugins')).body) as { id: string; status: string }[];
    assert.deepEqual(plugins.map((p) => p.status), ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
  });

  it('/tiny/events?after=N&until=M gives raw envelopes with positions', async () => {
    const r = await h.request('GET', '/tiny/events?after=2&until=4');
    const lines = r.body.toString().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { position: number; type: string });
    assert.deepEqual(lines.map((e) => [e.position, e.type]), [[3, 'ContainerCreated'], [4, 'ContainerStarting']]);
  });
});

describe('API server: shutdown', () => {
  it('close() + closeAllConnections() also ends hijacked connections and live streams', async () => {
    const dir = await mkdtemp(join(process.env.TINY_DOCKER_TEST_SCRATCH ?? tmpdir(), 'api-stop-'));
    const socketPath = join(dir, 'api.sock');
    const rig = await seededRig();
    const server = createApiServer(rig.engine, { version: 'test' });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      const hijacked = await new Promise<net.Socket>((resolve) => {
        const s = net.connect({ path: socketPath, allowHalfOpen: true }, () => resolve(s));
      });
      hijacked.write('POST /v1.50/containers/web/attach?stdout=1&stream=1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n');
      await new Promise((resolve) => hijacked.once('data', resolve));
      const hijackClosed = new Promise((resolve) => hijacked.on('end', resolve)); // half-open client: it sees the server's FIN
      const events = await new Promise<http.IncomingMessage>((resolve) => http.get({ socketPath, path: '/events' }, resolve));
      const eventsClosed = new Promise((resolve) => events.on('close', resolve));
      events.resume();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await Promise.all([closed, hijackClosed, eventsClosed]);
      hijacked.destroy();
    } finally {
      await rig.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
