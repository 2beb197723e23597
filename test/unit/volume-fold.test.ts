// Unit: volumes as a fold of the log (core/state/evolve.ts), their rules (core/state/volume-rules.ts):
// given events, when a command, then events or Docker's error; and which volumes a new container
// mounts (core/engine/container-volumes.ts planVolumes).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerVolume, EngineEvent } from '../../events/index.js';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../../core/engine/errors.js';
import { applyConfigChanges } from '../../core/engine/config-changes.js';
import { planVolumes } from '../../core/engine/container-volumes.js';
import { volumeHolders } from '../../core/engine/volume-mounts.js';
import { decideRemove } from '../../core/state/decide.js';
import {
  anonymousVolumesToRemove, decideVolumeCreate, decideVolumeRemove, findVolume, volumeMatches, volumeUsers, volumesToPrune,
} from '../../core/state/volume-rules.js';
import { BUSYBOX_IMAGE, containerCreated, given, secondsIn } from '../fixtures/event-envelopes.js';

const C1 = 'a'.repeat(63) + '1';
const C2 = 'b'.repeat(63) + '2';
const ANON = 'e'.repeat(64);

const created = (id: string, volumes: readonly ContainerVolume[]): EngineEvent => containerCreated(id, `c${id.slice(-1)}`, { data: { volumes } });

const volume = (name: string, extra: Partial<{ anonymous: boolean; labels: Record<string, string>; container: string }> = {}): EngineEvent[] => [
  { type: 'VolumeCreating', data: { name, driver: 'local', labels: extra.labels ?? {}, options: {}, anonymous: extra.anonymous ?? false, ...(extra.container ? { container: extra.container } : {}) } },
  { type: 'VolumeCreated', data: { name, mountpoint: `/var/lib/mini-docker/volume.v1.local/${name}/_data` } },
];

describe('unit: volumes in the fold', () => {
  it('who holds an on-demand volume\'s mount is a fold: its users that are starting, running or paused', () => {
    const uses = [{ name: 'ram', destination: '/r', readOnly: false, anonymous: false }];
    const base: EngineEvent[] = [...volume('ram'), created(C1, uses), created(C2, uses)];
    assert.deepEqual(volumeHolders(given(base), 'ram'), [], 'created containers hold nothing');
    const starting = given([...base, { type: 'ContainerStarting', data: { id: C1 } }]);
    assert.deepEqual(volumeHolders(starting, 'ram'), [C1], 'a start under way holds it (its mount comes before ContainerStarted)');
    const both = given([
      ...base, { type: 'ContainerStarting', data: { id: C1 } }, { type: 'ContainerStarted', data: { id: C1, pid: 10, shimPid: 9, drivers: [] } },
      { type: 'ContainerStarting', data: { id: C2 } }, { type: 'ContainerStarted', data: { id: C2, pid: 12, shimPid: 11, drivers: [] } },
      { type: 'ContainerPaused', data: { id: C2 } },
    ]);
    assert.deepEqual(volumeHolders(both, 'ram'), [C1, C2], 'running and paused');
    assert.deepEqual(volumeHolders(both, 'ram', C1), [C2], 'the one being released is left out');
    const exited = given([
      ...base, { type: 'ContainerStarting', data: { id: C1 } }, { type: 'ContainerStarted', data: { id: C1, pid: 10, shimPid: 9, drivers: [] } },
      { type: 'ContainerExited', data: { id: C1, name: 'c1', exitCode: 0, signal: null, oomKilled: false, finishedAt: '2026-12-07T10:00:09Z' } },
    ]);
    assert.deepEqual(volumeHolders(exited, 'ram'), [], 'an exited user holds nothing: its exit unmounts the volume');
    assert.deepEqual(volumeHolders(both, 'other'), []);
  });

  it('copy-up at the first mount: pending until a container mounts the volume; copying while the intent has no end; undone back to pending', () => {
    const start: EngineEvent = {
      type: 'VolumeCopyUpStarting', data: { name: 'data', container: C1, image: BUSYBOX_IMAGE, path: '/etc', root: { uid: 0, gid: 0, mode: 0o755 } },
    };
    assert.equal(given(volume('data')).volumes.data!.copyUp, 'pending', 'volume create: not mounted yet');
    assert.equal(given(volume('made', { container: C1 })).volumes.made!.copyUp, 'done', "a container's create made (and filled) it");
    const copying = given([...volume('data'), start]).volumes.data!;
    assert.equal(copying.copyUp, 'copying');
    assert.deepEqual(copying.copyUpRoot, { uid: 0, gid: 0, mode: 0o755 });
    const undone = given([...volume('data'), start, { type: 'VolumeCopyUpUndone', data: { name: 'data' } }]).volumes.data!;
    assert.equal(undone.copyUp, 'pending');
    assert.equal(undone.copyUpRoot, undefined);
    const copied = given([...volume('data'), start, { type: 'VolumeCopiedUp', data: { name: 'data' } }]).volumes.data!;
    assert.equal(copied.copyUp, 'done');
    const mounted = given([...volume('data'), created(C1, [{ name: 'data', destination: '/d', readOnly: false, anonymous: false }])]);
    assert.equal(mounted.volumes.data!.copyUp, 'done', 'a container listing it (nocopy, or nothing to copy) ends its first mount');
    const again = given([
      ...volume('data'), created(C1, [{ name: 'data', destination: '/d', readOnly: false, anonymous: false }]),
      { type: 'ContainerRemoving', data: { id: C1, force: false } }, { type: 'ContainerRemoved', data: { id: C1 } },
    ]);
    assert.equal(again.volumes.data!.copyUp, 'done', 'never pending again once mounted');
    const recreated = given([
      ...volume('data'), created(C1, [{ name: 'data', destination: '/d', readOnly: false, anonymous: false }]),
      { type: 'ContainerRemoving', data: { id: C1, force: false } }, { type: 'ContainerRemoved', data: { id: C1 } },
      { type: 'VolumeRemoving', data: { name: 'data' } }, { type: 'VolumeRemoved', data: { name: 'data' } }, ...volume('data'),
    ]);
    assert.equal(recreated.volumes.data!.copyUp, 'pending', 'a name removed and created again starts over');
  });

  it('a volume is listed once created; one being created or removed is not whole; removed, it is gone', () => {
    const creating = given([volume('data')[0]!]);
    assert.equal(creating.volumes.data!.status, 'creating');
    assert.throws(() => findVolume(creating, 'data'), /^NotFoundError: get data: no such volume$/);
    const s = given([...volume('data', { labels: { a: 'b' } }), { type: 'VolumeRemoving', data: { name: 'data' } }]);
    assert.deepEqual(
      { status: s.volumes.data!.status, mountpoint: s.volumes.data!.mountpoint, labels: s.volumes.data!.labels, createdAt: s.volumes.data!.createdAt },
      { status: 'removing', mountpoint: '/var/lib/mini-docker/volume.v1.local/data/_data', labels: { a: 'b' }, createdAt: secondsIn(0) },
    );
    const gone = given([...volume('data'), { type: 'VolumeRemoving', data: { name: 'data' } }, { type: 'VolumeRemoved', data: { name: 'data' } }]);
    assert.deepEqual(gone.volumes, {});
  });

  it('"in use" is the containers whose create lists the volume, running or not, until they are removed', () => {
    const events = [...volume('data'), ...volume(ANON, { anonymous: true, container: C1 }), created(C1, [
      { name: 'data', destination: '/data', readOnly: false, anonymous: false }, { name: ANON, destination: '/srv', readOnly: false, anonymous: true },
    ]), created(C2, [{ name: 'data', destination: '/d', readOnly: true, anonymous: false }])];
    const s = given(events);
    assert.deepEqual(volumeUsers(s, 'data'), [C1, C2]);
    assert.throws(() => decideVolumeRemove(s, 'data'), new ConflictError(`remove data: volume is in use - [${C1}, ${C2}]`));
    assert.deepEqual(anonymousVolumesToRemove(s, s.containers[C1]!), [ANON], 'rm -v takes the anonymous volume only');
    const after = given([...events, { type: 'ContainerRemoving', data: { id: C1, force: false, removeVolumes: true } }, { type: 'ContainerRemoved', data: { id: C1 } }, { type: 'ContainerRemoved', data: { id: C2 } }]);
    assert.deepEqual(volumeUsers(after, 'data'), []);
    assert.deepEqual(decideVolumeRemove(after, 'data'), [{ type: 'VolumeRemoving', data: { name: 'data' } }]);
    const removing = given([...events, ...decideRemove(s.containers[C1]!, false, true)]);
    assert.equal(removing.containers[C1]!.removeVolumes, true, 'the removal recalls -v for recovery');
  });

  it('an anonymous volume shared by --volumes-from stays with the container that still uses it', () => {
    const s = given([...volume(ANON, { anonymous: true, container: C1 }),
      created(C1, [{ name: ANON, destination: '/srv', readOnly: false, anonymous: true }]),
      created(C2, [{ name: ANON, destination: '/srv', readOnly: true, anonymous: false }])]);
    assert.deepEqual(anonymousVolumesToRemove(s, s.containers[C1]!), []);
  });

  it('create: a new name is an intent; the same name and driver is no event; another driver or a bad name is refused', () => {
    const s = given(volume('data'));
    const data = { name: 'data', driver: 'local', labels: {}, options: {}, anonymous: false };
    assert.deepEqual(decideVolumeCreate(s, data), []);
    assert.deepEqual(decideVolumeCreate(s, { ...data, name: 'other' }), [{ type: 'VolumeCreating', data: { ...data, name: 'other' } }]);
    assert.throws(() => decideVolumeCreate(s, { ...data, driver: 'nfs' }), /volume name already exists with a different driver \(local\)/);
    assert.throws(() => decideVolumeCreate(s, { ...data, name: 'a' }), InvalidArgumentError);
    assert.throws(() => decideVolumeCreate(s, { ...data, name: 'x/y' }), /includes invalid characters for a local volume name/);
    assert.throws(() => decideVolumeRemove(s, 'nope'), NotFoundError);
  });

  it('ls filters (dangling, name, label, driver) and prune (anonymous unless all=true, never one in use)', () => {
    const s = given([...volume('named', { labels: { team: 'db' } }), ...volume('used'), ...volume(ANON, { anonymous: true }),
      created(C1, [{ name: 'used', destination: '/u', readOnly: false, anonymous: false }])]);
    const names = (filters: [string, string[]][]): string[] => Object.values(s.volumes).filter((v) => volumeMatches(s, v, new Map(filters))).map((v) => v.name).sort();
    assert.deepEqual(names([['dangling', ['true']]]), [ANON, 'named'].sort());
    assert.deepEqual(names([['dangling', ['false']]]), ['used']);
    assert.deepEqual(names([['name', ['am']]]), ['named']);
    assert.deepEqual(names([['label', ['team=db']]]), ['named']);
    assert.deepEqual(names([['label', ['team']], ['driver', ['local']]]), ['named']);
    assert.deepEqual(names([['label!', ['team']]]), [ANON, 'used'].sort());
    assert.throws(() => names([['dangling', ['maybe']]]), /invalid filter 'dangling=maybe'/);
    assert.deepEqual(volumesToPrune(s, new Map()).map((v) => v.name), [ANON]);
    assert.deepEqual(volumesToPrune(s, new Map([['all', ['true']]])).map((v) => v.name), [ANON, 'named'].sort());
    assert.deepEqual(volumesToPrune(s, new Map([['all', ['true']], ['label', ['team']]])).map((v) => v.name), ['named']);
  });
});

describe('unit: which volumes a new container mounts (planVolumes)', () => {
  const image = { config: { Env: [], Cmd: null, Entrypoint: null, WorkingDir: '', User: '', Labels: {}, Volumes: { '/srv': {}, '/data/': {}, '/cache': {} } } };
  const none = (): never => {
    throw new NotFoundError('No such container');
  };

  it('own volumes, then the image VOLUME paths nothing else is mounted at (anonymous)', () => {
    const plan = planVolumes({ Binds: ['data:/data:ro', '/host:/cache', '/tmp/x'], Mounts: [{ Type: 'volume', Source: '', Target: '/m', ReadOnly: false, VolumeOptions: { NoCopy: true } }] }, image, none);
    assert.deepEqual(plan.volumes, [
      { name: 'data', destination: '/data', readOnly: true, anonymous: false, noCopy: false },
      { name: '', destination: '/tmp/x', readOnly: false, anonymous: true, noCopy: false },
      { name: '', destination: '/m', readOnly: false, anonymous: true, noCopy: true },
      { name: '', destination: '/srv', readOnly: false, anonymous: true, noCopy: false },
    ]);
    assert.deepEqual(plan.inheritedBinds, []);
  });

  it('--volumes-from takes the volumes and binds of the other container (ro or rw as asked), not over own mounts', () => {
    const other = (ref: string): { volumes: ContainerVolume[]; binds: string[] } => {
      assert.equal(ref, 'web');
      return { volumes: [{ name: ANON, destination: '/srv', readOnly: false, anonymous: true }, { name: 'own', destination: '/o', readOnly: false, anonymous: false }], binds: ['/h:/hb', '/h2:/o'] };
    };
    const plan = planVolumes({ Binds: ['mine:/o'], VolumesFrom: ['web:ro'] }, { config: { ...image.config, Volumes: {} } }, other);
    assert.deepEqual(plan.volumes, [
      { name: 'mine', destination: '/o', readOnly: false, anonymous: false, noCopy: false },
      { name: ANON, destination: '/srv', readOnly: true, anonymous: false, noCopy: true },
    ]);
    assert.deepEqual(plan.inheritedBinds, ['/h:/hb:ro']);
    assert.throws(() => planVolumes({ VolumesFrom: ['nope'] }, image, none), /No such container/);
  });
});

describe('unit: VOLUME in commit/import changes', () => {
  const base = { Env: [], Cmd: null, Entrypoint: null, WorkingDir: '', User: '', Labels: {} };
  it('adds paths in the plain and the JSON form, keeping those the image had; refuses relative paths', () => {
    assert.deepEqual(applyConfigChanges({ ...base, Volumes: { '/old': {} } }, ['VOLUME /srv /data', 'VOLUME ["/json"]']).Volumes, { '/old': {}, '/srv': {}, '/data': {}, '/json': {} });
    assert.throws(() => applyConfigChanges(base, ['VOLUME srv']), /VOLUME srv: the path must be absolute/);
    assert.throws(() => applyConfigChanges(base, ['VOLUME']), /VOLUME needs at least one path/);
  });
});
