// Unit: SharedOpenFiles, the one-open-file-per-container bookkeeping both file log drivers use.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SharedOpenFiles } from '../../core/plugins/log-support.js';

class Fake {
  closes = 0;
  async close(): Promise<void> {
    this.closes++;
  }
}

describe('SharedOpenFiles', () => {
  it('shares one open value per container and closes it with its last user, once', async () => {
    const files = new SharedOpenFiles<Fake>();
    let opened = 0;
    const opener = async (): Promise<Fake> => {
      opened++;
      return new Fake();
    };
    const a = await files.acquire('c1', opener);
    const b = await files.acquire('c1', opener);
    assert.equal(opened, 1);
    assert.equal(a.value, b.value);
    assert.equal(await files.current('c1'), a.value);
    await a.release();
    await a.release(); // idempotent: b still holds it
    assert.equal(a.value.closes, 0);
    await b.release();
    assert.equal(a.value.closes, 1);
    assert.equal(await files.current('c1'), undefined);
  });

  it('forgets a value that failed to open, and drop closes whoever holds it', async () => {
    const files = new SharedOpenFiles<Fake>();
    await assert.rejects(files.acquire('bad', async () => { throw new Error('EACCES'); }), /EACCES/);
    assert.equal(await files.current('bad'), undefined);
    const held = await files.acquire('c2', async () => new Fake());
    await files.drop('c2');
    assert.equal(held.value.closes, 1);
    assert.equal(await files.current('c2'), undefined);
    const other = await files.acquire('c3', async () => new Fake());
    await files.dropAll();
    assert.equal(other.value.closes, 1);
  });
});
