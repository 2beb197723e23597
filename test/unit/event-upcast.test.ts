import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SCHEMA_VERSIONS } from '../../events/catalogue.js';
import { upcast } from '../../events/upcasters.js';
import { validateEnvelope } from '../../events/validators.js';

describe('unit: old events are read in the current shape (upcasters)', () => {
  it('a ContainerExited of schema 1 (no name) reads as schema 2 with an empty name, and validates', () => {
    const raw = {
      position: 7, streamId: `container-${'a'.repeat(64)}`, streamVersion: 3, time: '2026-11-28T10:00:00Z', type: 'ContainerExited', schemaVersion: 1,
      data: { id: 'a'.repeat(64), exitCode: 3, signal: null, oomKilled: false, finishedAt: '2026-11-28T10:00:00Z' }, metadata: {},
    };
    const e = upcast(raw);
    assert.equal(e.schemaVersion, SCHEMA_VERSIONS.ContainerExited);
    assert.equal(e.schemaVersion, 2);
    assert.deepEqual(e.data, { ...raw.data, name: '' });
    assert.doesNotThrow(() => validateEnvelope(e));
  });

  it('a current ContainerExited is left as it is', () => {
    const data = { id: 'b'.repeat(64), name: 'web', exitCode: 0, signal: null, oomKilled: false, finishedAt: '2026-11-28T10:00:00Z' };
    const e = upcast({ position: 1, streamId: `container-${'b'.repeat(64)}`, streamVersion: 2, time: '2026-11-28T10:00:00Z', type: 'ContainerExited', schemaVersion: 2, data, metadata: {} });
    assert.deepEqual(e.data, data);
  });
});
