// Unit: the host-wide lock of network creation (core/network/host-network-lock.ts): creations wait
// for each other (never overlap), the lock's folder is made when missing, and the lock is given
// back when the work fails.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { HOST_NETWORK_LOCK_FILE, withHostNetworkLock } from '../../core/network/host-network-lock.js';
import { makeScratchDir } from '../fixtures/scratch-dir.js';

describe('unit: the host-wide network creation lock', () => {
  const scratches: { dispose(): Promise<void> }[] = [];
  after(async () => {
    for (const s of scratches) await s.dispose();
  });

  it('works under it one at a time, in a folder it makes, and gives the lock back after a failure', async () => {
    const scratch = await makeScratchDir('host-lock');
    scratches.push(scratch);
    const directory = join(scratch.path, 'lock', 'dir');
    const warnings: string[] = [];
    const options = { directory, warn: (m: string) => warnings.push(m) };
    const trace: string[] = [];
    let inside = 0;
    const work = (name: string) => withHostNetworkLock(async () => {
      inside += 1;
      assert.equal(inside, 1, `${name} ran alone`);
      trace.push(`${name} in`);
      await new Promise((r) => setTimeout(r, 30));
      trace.push(`${name} out`);
      inside -= 1;
      return name;
    }, options);
    assert.deepEqual(await Promise.all([work('a'), work('b'), work('c')]), ['a', 'b', 'c']);
    assert.equal(trace.length, 6);
    for (let i = 0; i < 6; i += 2) assert.equal(trace[i]!.split(' ')[0], trace[i + 1]!.split(' ')[0], 'each work leaves before the next enters');
    await assert.rejects(withHostNetworkLock(async () => { throw new Error('the driver failed'); }, options), /the driver failed/);
    assert.equal(existsSync(join(directory, HOST_NETWORK_LOCK_FILE)), false, 'the lock was given back');
    assert.equal(await withHostNetworkLock(async () => 'again', options), 'again');
    assert.deepEqual(warnings, []);
  });
});
