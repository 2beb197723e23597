// Unit: LogLock (core/eventlog/log-lock.ts) within one process: the lock file says which process
// holds a folder, so two callers in one process are told apart by the process itself. A second
// acquire fails at once, saying this process holds it; two at once do not both get it (the second
// used to take the first's fresh file for a stale one); a lock released twice does not remove the
// next holder's file.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join, relative as relativeTo } from 'node:path';
import { after, describe, it } from 'node:test';
import { LogLock, LogLockedError, liveLockHolder } from '../../core/eventlog/log-lock.js';
import { makeScratchDir } from '../fixtures/scratch-dir.js';

describe('unit: LogLock, two callers in one process', () => {
  const scratches: { dispose(): Promise<void> }[] = [];
  after(async () => {
    for (const s of scratches) await s.dispose();
  });

  async function folder(): Promise<string> {
    const scratch = await makeScratchDir('log-lock');
    scratches.push(scratch);
    return scratch.path;
  }

  const heldHere = (directory: string) => (error: unknown): boolean => {
    assert.ok(error instanceof LogLockedError, String(error));
    assert.deepEqual([error.pid, error.inThisProcess], [process.pid, true]);
    assert.equal(error.message, `this process (pid ${process.pid}) already holds the lock of ${directory}: release it before taking it again`);
    return true;
  };

  it('refuses a second acquire while the first holds it, saying so; after the release it is free again', async () => {
    const directory = await folder();
    const warnings: string[] = [];
    const first = await LogLock.acquire(directory, (m) => warnings.push(m));
    await assert.rejects(LogLock.acquire(directory, (m) => warnings.push(m)), heldHere(directory));
    assert.equal(liveLockHolder(first.path), process.pid, 'the refusal left the first holder alone');
    await first.release();
    assert.equal(liveLockHolder(first.path), undefined);
    const second = await LogLock.acquire(directory, (m) => warnings.push(m));
    await second.release();
    assert.deepEqual(warnings, []);
  });

  it('gives one of two acquires at once the lock and refuses the other, without a takeover', async () => {
    for (let round = 0; round < 20; round++) {
      const directory = await folder();
      const warnings: string[] = [];
      const settled = await Promise.allSettled([LogLock.acquire(directory, (m) => warnings.push(m)), LogLock.acquire(directory, (m) => warnings.push(m))]);
      const won = settled.filter((s): s is PromiseFulfilledResult<LogLock> => s.status === 'fulfilled').map((s) => s.value);
      const lost = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected').map((s) => s.reason as unknown);
      assert.equal(won.length, 1, `round ${round}: one holder, not ${won.length}`);
      assert.ok(heldHere(directory)(lost[0]));
      assert.deepEqual(warnings, [], `round ${round}: the fresh lock was not taken for a stale one`);
      await won[0]!.release();
    }
  });

  it('knows the folder however it is written (relative, with a trailing slash)', async () => {
    const directory = await folder();
    const first = await LogLock.acquire(directory, () => undefined);
    const relative = `${relativeTo(process.cwd(), directory)}/`;
    await assert.rejects(LogLock.acquire(relative, () => undefined), (error: unknown) => error instanceof LogLockedError && error.inThisProcess);
    assert.equal(liveLockHolder(join(relative, LogLock.FILE_NAME)), process.pid);
    await first.release();
  });

  it('a lock released twice leaves the next holder\'s file in place', async () => {
    const directory = await folder();
    const first = await LogLock.acquire(directory, () => undefined);
    await first.release();
    const second = await LogLock.acquire(directory, () => undefined);
    const content = await readFile(join(directory, LogLock.FILE_NAME), 'utf8');
    await first.release();
    assert.equal(await readFile(join(directory, LogLock.FILE_NAME), 'utf8'), content);
    assert.equal(liveLockHolder(second.path), process.pid);
    await assert.rejects(LogLock.acquire(directory, () => undefined), heldHere(directory));
    await second.release();
    assert.equal(liveLockHolder(second.path), undefined);
  });
});
