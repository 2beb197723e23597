// Unit: the volume routes of the API (core/api/volume-routes.ts) over a real unix socket on the real
// engine (the engine rig: its rules, its fold, the real local volume driver in a temporary folder),
// and how volume events show as Docker's (core/api/event-presenter.ts).
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DockerEventMapper } from '../../core/api/event-presenter.js';
import type { EventEnvelope } from '../../events/index.js';
import { startHarness, type Harness } from './api-harness.js';
import { engineRig, type EngineRig } from './engine-rig.js';

function json(body: Buffer): unknown {
  return JSON.parse(body.toString('utf8'));
}

describe('API: /volumes', () => {
  let rig: EngineRig;
  let h: Harness;
  before(async () => {
    rig = await engineRig();
    h = await startHarness(rig.engine);
  });
  after(async () => {
    await h.close();
    await rig.dispose();
  });

  const create = (body: unknown): Promise<{ status: number; body: Buffer }> => h.request('POST', '/v1.50/volumes/create', { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('creates, inspects and lists volumes in Docker\'s shape; an existing name is returned as it is', async () => {
    const r = await create({ Name: 'data', Driver: 'local', Labels: { team: 'db' }, DriverOpts: {} });
    assert.equal(r.status, 201);
    const v = json(r.body) as Record<string, unknown>;
    assert.deepEqual({ ...v, CreatedAt: undefined }, {
      CreatedAt: undefined, Driver: 'local', Labels: { team: 'db' }, Mountpoint: `${rig.dir}/volume.v1.local/data/_data`, Name: 'data', Options: null, Scope: 'local',
    });
    assert.match(String(v.CreatedAt), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal((await create({ Name: 'data' })).status, 201);
    assert.equal((await create({ Name: 'x' })).status, 400, 'a one-character name is refused');
    const list = json((await h.request('GET', '/v1.50/volumes')).body) as { Volumes: { Name: string }[]; Warnings: unknown[] };
    assert.deepEqual(list.Volumes.map((x) => x.Name), ['data']);
    assert.deepEqual(list.Warnings, []);
    const filtered = json((await h.request('GET', `/v1.50/volumes?filters=${encodeURIComponent(JSON.stringify({ label: { 'team=web': true } }))}`)).body) as { Volumes: unknown[] };
    assert.deepEqual(filtered.Volumes, []);
    const bad = await h.request('GET', `/v1.50/volumes?filters=${encodeURIComponent(JSON.stringify({ color: ['red'] }))}`);
    assert.equal(bad.status, 400);
    assert.deepEqual(json(bad.body), { message: "invalid filter 'color'" });
    assert.equal((json((await h.request('GET', '/v1.50/volumes/data')).body) as { Name: string }).Name, 'data');
  });

  it('DELETE: 404 for a missing volume unless force; prune removes what is unused and says so', async () => {
    const missing = await h.request('DELETE', '/v1.50/volumes/nope');
    assert.equal(missing.status, 404);
    assert.deepEqual(json(missing.body), { message: 'get nope: no such volume' });
    assert.equal((await h.request('DELETE', '/v1.50/volumes/nope?force=1')).status, 204);
    await create({ Name: 'spare' });
    const kept = json((await h.request('POST', '/v1.50/volumes/prune')).body) as { VolumesDeleted: string[] };
    assert.deepEqual(kept.VolumesDeleted, [], 'named volumes stay without all=true');
    const pruned = json((await h.request('POST', `/v1.50/volumes/prune?filters=${encodeURIComponent(JSON.stringify({ all: ['true'], name: ['spa'] }))}`)).body) as { VolumesDeleted: string[]; SpaceReclaimed: number };
    assert.deepEqual(pruned, { VolumesDeleted: ['spare'], SpaceReclaimed: 0 });
    assert.equal((await h.request('DELETE', '/v1.50/volumes/data')).status, 204);
    assert.equal((await h.request('GET', '/v1.50/volumes/data')).status, 404);
  });

  it('system df lists volumes with their size and how many containers use them', async () => {
    await create({ Name: 'sized' });
    const mountpoint = (json((await h.request('GET', '/v1.50/volumes/sized')).body) as { Mountpoint: string }).Mountpoint;
    await writeFile(join(mountpoint, 'thousand'), Buffer.alloc(1000, 'x'));
    const df = json((await h.request('GET', '/v1.50/system/df')).body) as { Volumes: { Name: string; UsageData: { Size: number; RefCount: number } }[] };
    assert.deepEqual(df.Volumes.map((v) => [v.Name, v.UsageData]), [['sized', { Size: 1000, RefCount: 0 }]]);
    assert.equal((await h.request('DELETE', '/v1.50/volumes/sized')).status, 204);
  });
});

describe('events: volumes as Docker shows them', () => {
  const ID = 'f'.repeat(64);
  const at = (position: number, type: EventEnvelope['type'], data: unknown): EventEnvelope =>
    ({ position, streamId: 's', streamVersion: position, time: '2026-12-07T10:00:00.5Z', type, schemaVersion: 1, data, metadata: {} }) as EventEnvelope;

  it('create and destroy; a container\'s volumes mount before its start and unmount after its die; intents only with steps', () => {
    const mapper = new DockerEventMapper();
    const shown = [
      at(1, 'VolumeCreating', { name: 'data', driver: 'local', labels: {}, options: {}, anonymous: false }),
      at(2, 'VolumeCreated', { name: 'data', mountpoint: '/m' }),
      at(3, 'ContainerCreated', {
        id: ID, name: 'web', image: { ref: 'busybox', id: `sha256:${'b'.repeat(64)}` },
        config: { Cmd: ['sh'], Entrypoint: null, Env: [], WorkingDir: '', User: '', Hostname: 'h', Tty: false, OpenStdin: false, StdinOnce: false, AttachStdin: false, AttachStdout: true, AttachStderr: true, Labels: {} },
        hostConfig: { AutoRemove: false, LogConfig: { Type: 'json-file', Config: {} } }, volumes: [{ name: 'data', destination: '/data', readOnly: true, anonymous: false }],
      }),
      at(4, 'ContainerStarted', { id: ID, pid: 2, shimPid: 1, drivers: [] }),
      at(5, 'ContainerExited', { id: ID, name: 'web', exitCode: 0, signal: null, oomKilled: false, finishedAt: '2026-12-07T10:00:01Z' }),
      at(6, 'VolumeRemoving', { name: 'data' }),
      at(7, 'VolumeRemoved', { name: 'data' }),
    ].flatMap((e) => mapper.map(e)).map((ev) => `${ev.Type} ${ev.Action} ${ev.Actor.ID.slice(0, 4)} ${JSON.stringify(ev.Type === 'volume' ? ev.Actor.Attributes : {})}`);
    assert.deepEqual(shown, [
      'volume create data {"driver":"local"}',
      'container create ffff {}',
      `volume mount data {"container":"${ID}","destination":"/data","driver":"local","propagation":"","read/write":"false"}`,
      'container start ffff {}',
      'container die ffff {}',
      `volume unmount data {"container":"${ID}","driver":"local"}`,
      'volume destroy data {"driver":"local"}',
    ]);
    const steps = new DockerEventMapper({}, '', true);
    assert.deepEqual(steps.map(at(1, 'VolumeCreating', { name: 'v2', driver: 'local', labels: {}, options: {}, anonymous: true })).map((e) => e.Action), ['create-intent']);
  });
});
