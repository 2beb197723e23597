import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { containerStream, type EngineEvent, type EventEnvelope } from '../../events/index.js';
import { FileEventLog } from '../../core/eventlog/file-event-log.js';
import { runCommand } from '../e2e/harness.js';
import { makeScratchDir } from '../fixtures/scratch-dir.js';
import { containerIdFor, sampleEvents } from '../unit/event-log-conformance.js';

const notRoot = process.getuid?.() !== 0 && 'needs root (a loop-mounted file system)';

/** Every event the log holds, read back. */
async function readAll(log: FileEventLog): Promise<EventEnvelope[]> {
  const out: EventEnvelope[] = [];
  for await (const e of log.read()) out.push(e);
  return out;
}

/**
 * The file event log on a full disk (a 2 MiB ext4 on a loop device): an append that does not fit
 * is refused naming the full disk and leaves the file exactly as acknowledged; later appends
 * work again once space is freed, without reopening; a reopen reads every acknowledged event and
 * cuts nothing off (docs/log-format.md).
 */
describe('integration: the event log on a full disk', { skip: notRoot }, () => {
  let scratch: { path: string; dispose(): Promise<void> };
  let mountPoint = '';

  before(async () => {
    scratch = await makeScratchDir('event-log-disk-full');
    const image = join(scratch.path, 'fs.ext4');
    mountPoint = join(scratch.path, 'mnt');
    await mkdir(mountPoint);
    for (const [cmd, args] of [['truncate', ['-s', '2M', image]], ['mkfs.ext4', ['-q', '-F', '-m', '0', '-b', '1024', image]], ['mount', ['-o', 'loop', image, mountPoint]]] as const) {
      const r = await runCommand(cmd, args);
      assert.equal(r.code, 0, `${cmd}: ${r.stderr}`);
    }
  });
  after(async () => {
    await runCommand('umount', [mountPoint]);
    await scratch.dispose();
  });

  it('refuses what does not fit, keeps what was acknowledged, and appends again once space is freed', async () => {
    const dir = join(mountPoint, 'events');
    const log = new FileEventLog(dir);
    await log.open();
    // Ballast to free later; then big events (a 50 kB name) fill the rest.
    await writeFile(join(mountPoint, 'ballast'), Buffer.alloc(256 * 1024));
    const big = (n: number): EngineEvent => sampleEvents.created(n, `c${n}-${'x'.repeat(50_000)}`);
    const acknowledged: EventEnvelope[] = [];
    let refused: NodeJS.ErrnoException | undefined;
    for (let n = 0; n < 200 && !refused; n++) {
      try {
        acknowledged.push(...(await log.append(containerStream(containerIdFor(n)), [big(n)], 'no-stream')));
      } catch (err) {
        refused = err as NodeJS.ErrnoException;
      }
    }
    assert.ok(refused, 'the disk never filled');
    assert.match(refused.message, /^recording 1 event\(s\) in the event log failed: no space left on device \(ENOSPC\); nothing was recorded: free space on the file system of .*events and try again$/);
    assert.equal(refused.code, 'ENOSPC');
    assert.ok(acknowledged.length > 0);
    assert.deepEqual((await readAll(log)).map((e) => e.position), acknowledged.map((e) => e.position), 'the log holds exactly what was acknowledged');

    // Space freed: the same open log appends again, at the next position.
    await rm(join(mountPoint, 'ballast'));
    const again = await log.append(containerStream(containerIdFor(500)), [big(500)], 'no-stream');
    assert.equal(again[0]?.position, acknowledged.length + 1);
    acknowledged.push(...again);
    await log.close();

    const reopened = new FileEventLog(dir);
    const report = await reopened.open();
    assert.deepEqual(report.warnings, [], 'the reopen found something to cut off');
    assert.deepEqual((await readAll(reopened)).map((e) => [e.position, e.streamId]), acknowledged.map((e) => [e.position, e.streamId]));
    await reopened.close();
  });
});
