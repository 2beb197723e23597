import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SharedSync } from '../../plugins/storage-overlayfs/shared-sync.js';

/** A sync whose runs the test ends by hand, in order. */
function controlledSync(): { shared: SharedSync; started: number; finish(error?: Error): Promise<void> } {
  const pending: { resolve(): void; reject(error: Error): void }[] = [];
  const state = {
    started: 0,
    shared: new SharedSync(() => new Promise<void>((resolve, reject) => {
      state.started++;
      pending.push({ resolve, reject });
    })),
    async finish(error?: Error): Promise<void> {
      const run = pending.shift();
      assert.ok(run, 'no sync is running');
      if (error) run.reject(error);
      else run.resolve();
      await new Promise((r) => setImmediate(r));
    },
  };
  return state;
}

describe('SharedSync: one sync process for the layers unpacked at the same time (unit)', () => {
  it('calls made while a sync runs share the next one, which starts only once the running one ended', async () => {
    const s = controlledSync();
    const order: string[] = [];
    const first = s.shared.sync().then(() => order.push('first'));
    assert.equal(s.started, 1);
    // Their writes ended after the running sync began: it does not cover them.
    const second = s.shared.sync().then(() => order.push('second'));
    const third = s.shared.sync().then(() => order.push('third'));
    assert.equal(s.started, 1);
    await s.finish();
    assert.deepEqual(order, ['first']);
    assert.equal(s.started, 2);
    // A call now waits for a third sync, not for the one already running.
    const fourth = s.shared.sync().then(() => order.push('fourth'));
    await s.finish();
    assert.deepEqual(order, ['first', 'second', 'third']);
    assert.equal(s.started, 3);
    await s.finish();
    await Promise.all([first, second, third, fourth]);
    assert.deepEqual(order, ['first', 'second', 'third', 'fourth']);
    assert.equal(s.started, 3);
  });

  it('a failed sync fails the calls it served; the next call starts a new one', async () => {
    const s = controlledSync();
    const failing = assert.rejects(s.shared.sync(), /Input\/output error/);
    await s.finish(new Error('sync -f: Input/output error'));
    await failing;
    const next = s.shared.sync();
    assert.equal(s.started, 2);
    await s.finish();
    await next;
  });
});
