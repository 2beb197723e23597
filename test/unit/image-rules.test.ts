import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EngineEvent, ImageCreated } from '../../events/index.js';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../../core/engine/errors.js';
import {
  decideCreateImage, decideRemoveImage, decideTag, normaliseRepoTag, pruneVictims, referencedBlobs,
} from '../../core/images/image-rules.js';
import { parseFilters } from '../../core/api/http-params.js';
import { selectImages, shownTags } from '../../core/api/image-filters.js';
import { given } from '../fixtures/event-envelopes.js';

const hex = (c: string): string => c.repeat(64);
const IMG = `sha256:${hex('a')}`;
const IMG2 = `sha256:${hex('b')}`;
const BASE_LAYER = `sha256:${hex('1')}`;
const TOP_LAYER = `sha256:${hex('2')}`;
const CTR = hex('c');

function imageData(id: string, layers: readonly string[]): ImageCreated['data'] {
  return {
    id, origin: 'import', source: '-', parent: null, layers: layers.map((diffId) => ({ diffId, size: 10 })),
    config: { Env: [], Cmd: null, Entrypoint: null, WorkingDir: '', User: '', Labels: {} }, history: [],
    created: '2026-12-07T03:00:00Z', architecture: 'amd64', os: 'linux',
  };
}

const image = (id: string, layers: readonly string[] = [BASE_LAYER]): EngineEvent => ({ type: 'ImageCreated', data: imageData(id, layers) });
const tagged = (id: string, ref: string): EngineEvent => ({ type: 'ImageTagged', data: { id, ref } });
const container = (imageId: string): EngineEvent => ({
  type: 'ContainerCreated',
  data: {
    id: CTR, name: 'web', image: { ref: imageId, id: imageId },
    config: {
      Cmd: ['sh'], Entrypoint: null, Env: [], WorkingDir: '', User: '', Hostname: 'web', Tty: false, OpenStdin: false,
      StdinOnce: false, AttachStdin: false, AttachStdout: true, AttachStderr: true, Labels: {},
    },
    hostConfig: { AutoRemove: false, LogConfig: { Type: 'json-file', Config: {} } },
  },
});
const started: EngineEvent = { type: 'ContainerStarted', data: { id: CTR, pid: 10, shimPid: 9, drivers: [] } };

describe('unit: image rules (given events, when command, then events or error)', () => {
  it('tag: given an image, when tagged, then ImageTagged; when tagged again, then nothing', () => {
    const state = given([image(IMG)]);
    assert.deepEqual(decideTag(state.images[IMG]!, 'web:v1'), [{ type: 'ImageTagged', data: { id: IMG, ref: 'web:v1' } }]);
    const again = given([image(IMG), tagged(IMG, 'web:v1')]);
    assert.deepEqual(decideTag(again.images[IMG]!, 'web:v1'), []);
  });

  it('tag names are normalised as docker does; a digest or a bad name is a 400', () => {
    assert.equal(normaliseRepoTag('docker.io/library/web'), 'web:latest');
    assert.equal(normaliseRepoTag('web', 'v2'), 'web:v2');
    assert.throws(() => normaliseRepoTag('Web'), InvalidArgumentError);
    assert.throws(() => normaliseRepoTag(`web@sha256:${hex('d')}`), /a tag is needed/);
  });

  it('create: given nothing, then ImageCreated; given the image, then nothing (a second load appends nothing)', () => {
    assert.deepEqual(decideCreateImage(given([]), imageData(IMG, [])), [{ type: 'ImageCreated', data: imageData(IMG, []) }]);
    assert.deepEqual(decideCreateImage(given([image(IMG)]), imageData(IMG, [])), []);
  });

  it('rmi by one of several tags: only that tag goes, the image stays', () => {
    const state = given([image(IMG), tagged(IMG, 'web:v1'), tagged(IMG, 'web:v2')]);
    const d = decideRemoveImage(state, 'web:v1', false);
    assert.deepEqual(d.events, [{ type: 'ImageUntagged', data: { id: IMG, ref: 'web:v1' } }]);
    assert.deepEqual(d.report, [{ Untagged: 'web:v1' }]);
    assert.equal(d.removed, false);
  });

  it('rmi of an unused image: every tag, then ImageRemoved, answered as docker does', () => {
    const state = given([image(IMG), tagged(IMG, 'web:v1')]);
    const d = decideRemoveImage(state, 'web:v1', false);
    assert.deepEqual(d.events, [
      { type: 'ImageUntagged', data: { id: IMG, ref: 'web:v1' } },
      { type: 'ImageRemoved', data: { id: IMG } },
    ]);
    assert.deepEqual(d.report, [{ Untagged: 'web:v1' }, { Deleted: IMG }]);
    assert.equal(d.removed, true);
  });

  it('rmi of an image a stopped container uses: 409 unless forced', () => {
    const state = given([image(IMG), tagged(IMG, 'web:v1'), container(IMG)]);
    assert.throws(() => decideRemoveImage(state, 'web:v1', false), (e: unknown) => e instanceof ConflictError && /must force/.test(e.message) && /using its referenced image/.test(e.message));
    assert.equal(decideRemoveImage(state, 'web:v1', true).removed, true);
  });

  it('rmi of an image a running container uses: refused even forced by id; forced by tag only untags', () => {
    const state = given([image(IMG), tagged(IMG, 'web:v1'), container(IMG), started]);
    assert.throws(() => decideRemoveImage(state, 'web:v1', false), /container cccccccccccc is running/);
    assert.throws(() => decideRemoveImage(state, IMG, true), /cannot be forced/);
    const d = decideRemoveImage(state, 'web:v1', true);
    assert.deepEqual(d.events, [{ type: 'ImageUntagged', data: { id: IMG, ref: 'web:v1' } }]);
    assert.equal(d.removed, false);
  });

  it('rmi by id of an image with several tags needs force', () => {
    const state = given([image(IMG), tagged(IMG, 'a:1'), tagged(IMG, 'b:1')]);
    assert.throws(() => decideRemoveImage(state, IMG.slice(7, 19), false), /referenced in multiple repositories/);
    assert.deepEqual(decideRemoveImage(state, IMG.slice(7, 19), true).report, [{ Untagged: 'a:1' }, { Untagged: 'b:1' }, { Deleted: IMG }]);
  });

  it('rmi of an unknown image is a 404', () => {
    assert.throws(() => decideRemoveImage(given([]), 'nope:latest', false), NotFoundError);
  });

  it('prune: untagged unused images; with all, every unused image', () => {
    const state = given([image(IMG), image(IMG2), tagged(IMG2, 'kept:v1'), image(`sha256:${hex('e')}`), container(`sha256:${hex('e')}`)]);
    assert.deepEqual(pruneVictims(state, false).map((i) => i.id), [IMG]);
    assert.deepEqual(pruneVictims(state, true).map((i) => i.id).sort(), [IMG, IMG2]);
  });

  it('the blobs the fold references: configs and layers of every image, and nothing of a removed one', () => {
    const state = given([image(IMG, [BASE_LAYER]), image(IMG2, [BASE_LAYER, TOP_LAYER]), { type: 'ImageRemoved', data: { id: IMG2 } }]);
    assert.deepEqual([...referencedBlobs(state)].sort(), [BASE_LAYER, IMG].sort());
  });
});

describe('unit: image listing by reference', () => {
  it('an image with several names is selected by one of them and shows only the names that match, as moby', () => {
    const state = given([image(IMG), tagged(IMG, 'docker.io/library/busybox:latest'), tagged(IMG, '127.0.0.1:5000/tools/multi:v1'),
      tagged(IMG, '127.0.0.1:5000/tools/multi:v2'), image(IMG2), tagged(IMG2, 'docker.io/library/web:v1')]);
    const filters = parseFilters('{"reference":{"127.0.0.1:5000/tools/multi":true}}');
    const selected = selectImages(Object.values(state.images), filters, () => undefined);
    assert.deepEqual(selected.map((i) => i.id), [IMG]);
    assert.deepEqual(shownTags(selected[0]!, filters), ['127.0.0.1:5000/tools/multi:v1', '127.0.0.1:5000/tools/multi:v2']);
    assert.deepEqual(shownTags(selected[0]!, parseFilters('{"reference":{"busybox":true}}')), ['docker.io/library/busybox:latest']);
    assert.equal(shownTags(state.images[IMG]!, parseFilters(null)).length, 3);
  });
});
