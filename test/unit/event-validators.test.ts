import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidEventError, validateEvent, type EngineEvent } from '../../events/index.js';

// Unit: what the event log refuses on append, field by field (events/validators.ts).

describe('unit: event validation', () => {
  const id = 'a'.repeat(64);
  const execStarted = (startTime?: unknown): EngineEvent =>
    ({ type: 'ExecStarted', data: { id, execId: 'x1', pid: 4242, ...(startTime !== undefined ? { startTime } : {}) } }) as EngineEvent;

  it('ExecStarted: a start time is a positive integer (clock ticks after boot), or absent; 0, negatives, fractions and strings are refused', () => {
    assert.doesNotThrow(() => validateEvent(execStarted()), 'absent: an older log, another isolator');
    assert.doesNotThrow(() => validateEvent(execStarted(1)));
    assert.doesNotThrow(() => validateEvent(execStarted(2 ** 40 + 7)));
    for (const bad of [0, -1, 1.5, '12', null]) {
      assert.throws(() => validateEvent(execStarted(bad)), (err: unknown) => {
        assert.ok(err instanceof InvalidEventError);
        assert.equal(err.message, `invalid event: ExecStarted.data.startTime: expected a positive integer, got ${JSON.stringify(bad)}`);
        return true;
      }, `startTime ${JSON.stringify(bad)}`);
    }
  });
});
