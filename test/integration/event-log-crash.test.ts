import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { containerStream, DAEMON_STREAM, type EventEnvelope } from '../../events/index.js';
import { FileEventLog } from '../../core/eventlog/file-event-log.js';
import { LogCorruptionError } from '../../core/eventlog/log-corruption-error.js';
import { containerIdFor, sampleEvents } from '../unit/event-log-conformance.js';

const CHILD_FLAG = '--append-until-killed';

/**
 * Child mode: open the log and append forever — multi-event appends and bursts of concurrent ones
 * (one group commit) — printing "<position> <streamId> <streamVersion> <type>" for each event
 * once its append is acknowledged (durable).
 */
async function appendUntilKilled(directory: string, firstContainer: number): Promise<void> {
  const log = new FileEventLog(directory);
  const report = await log.open();
  process.stdout.write(`opened ${report.lastPosition} ${report.warnings.length}\n`);
  const acknowledge = (envelopes: readonly EventEnvelope[]): void => {
    for (const e of envelopes) process.stdout.write(`${e.position} ${e.streamId} ${e.streamVersion} ${e.type}\n`);
  };
  for (let n = firstContainer; ; n++) {
    const stream = containerStream(containerIdFor(n));
    acknowledge(await log.append(stream, [sampleEvents.created(n), sampleEvents.started(n)], 'no-stream'));
    const burst = await Promise.all([
      log.append(stream, [sampleEvents.exited(n, n % 256)], 2),
      log.append(DAEMON_STREAM, [{ type: 'DaemonReconciled', data: { running: [], exited: [containerIdFor(n)] } }], 'any'),
      log.append(stream, [sampleEvents.removed(n)], 3),
    ]);
    for (const envelopes of burst) acknowledge(envelopes);
  }
}

if (process.argv[2] === CHILD_FLAG) {
  await appendUntilKilled(process.argv[3]!, Number(process.argv[4]));
} else {
  registerTests();
}

interface Acknowledged {
  readonly position: number;
  readonly streamId: string;
  readonly streamVersion: number;
  readonly type: string;
}

async function collect(iterable: AsyncIterable<EventEnvelope>): Promise<EventEnvelope[]> {
  const out: EventEnvelope[] = [];
  for await (const envelope of iterable) out.push(envelope);
  return out;
}

function registerTests(): void {
  let scratch = '';
  const children = new Set<ChildProcess>();
  before(async () => {
    scratch = await mkdtemp(join(process.env.TINY_DOCKER_TEST_SCRATCH ?? tmpdir(), 'event-log-crash-'));
  });
  after(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await rm(scratch, { recursive: true, force: true });
  });

  /** Runs an appending child, kills it with SIGKILL (by its pid) after `killAfter` acknowledged events, returns what it acknowledged. */
  async function runAndKill(directory: string, firstContainer: number, killAfter: number, whileRunning?: (pid: number) => Promise<void>): Promise<Acknowledged[]> {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), CHILD_FLAG, directory, String(firstContainer)], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.add(child);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const acknowledged: Acknowledged[] = [];
    try {
      for await (const line of createInterface({ input: child.stdout! })) {
        const [position, streamId, streamVersion, type] = line.split(' ');
        if (position === 'opened') continue;
        acknowledged.push({ position: Number(position), streamId: streamId!, streamVersion: Number(streamVersion), type: type! });
        if (acknowledged.length === Math.floor(killAfter / 2) && whileRunning) await whileRunning(child.pid!);
        if (acknowledged.length >= killAfter) {
          process.kill(child.pid!, 'SIGKILL');
          break;
        }
      }
    } finally {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
      await exited;
      children.delete(child);
    }
    assert.equal(child.signalCode, 'SIGKILL', 'the child was killed, it did not exit on its own');
    return acknowledged;
  }

  describe('event log crash safety (integration)', { timeout: 120_000 }, () => {
    it('after kill -9 mid-run, every acknowledged event is there and nothing is mis-read (three crashes in a row)', async () => {
      const directory = join(scratch, 'killed');
      const acknowledged: Acknowledged[] = [];
      for (let round = 0; round < 3; round++) {
        const killAfter = 150 + Math.floor(Math.random() * 300);
        const lockedOut = async (pid: number): Promise<void> => {
          // A second writer is refused while the child holds the log.
          await assert.rejects(new FileEventLog(directory).open(), new RegExp(`^LogLockedError: another mini-dockerd \\(pid ${pid}\\) is using ${directory}$`));
        };
        acknowledged.push(...await runAndKill(directory, (round + 1) * 1_000_000, killAfter, round === 0 ? lockedOut : undefined));
      }
      const warnings: string[] = [];
      const log = new FileEventLog(directory, (message) => warnings.push(message));
      const report = await log.open();
      try {
        assert.match(warnings[0] ?? '', /took over the lock .* no longer running/);
        const events = await collect(log.read());
        assert.equal(events.length, report.lastPosition);
        events.forEach((e, i) => assert.equal(e.position, i + 1, 'positions are gap-free'));
        const byPosition = new Map(events.map((e) => [e.position, e]));
        for (const ack of acknowledged) {
          const stored = byPosition.get(ack.position);
          assert.ok(stored, `acknowledged position ${ack.position} is missing`);
          assert.deepEqual([stored.streamId, stored.streamVersion, stored.type], [ack.streamId, ack.streamVersion, ack.type]);
        }
        const versions = new Map<string, number>();
        for (const e of events) {
          assert.equal(e.streamVersion, (versions.get(e.streamId) ?? 0) + 1, `stream versions of ${e.streamId} have no gaps`);
          versions.set(e.streamId, e.streamVersion);
        }
        const [next] = await log.append(DAEMON_STREAM, [{ type: 'DaemonStopped', data: { pid: process.pid } }], 'any');
        assert.equal(next!.position, report.lastPosition + 1);
      } finally {
        await log.close();
      }
    });

    /** A log with a few records, closed; returns its file and the offset of each record. */
    async function smallLog(name: string): Promise<{ directory: string; file: string; recordStarts: number[] }> {
      const directory = join(scratch, name);
      const log = new FileEventLog(directory);
      await log.open();
      for (let n = 1; n <= 6; n++) await log.append(containerStream(containerIdFor(n)), [sampleEvents.created(n)], 'no-stream');
      await log.close();
      const file = join(directory, FileEventLog.FILE_NAME);
      const bytes = await readFile(file);
      const recordStarts: number[] = [];
      for (let i = bytes.indexOf(10); i >= 0 && i + 1 < bytes.length; i = bytes.indexOf(10, i + 1)) recordStarts.push(i + 1);
      return { directory, file, recordStarts };
    }

    async function flipByte(file: string, offset: number): Promise<void> {
      const bytes = await readFile(file);
      bytes[offset] = bytes[offset]! ^ 0x20;
      await writeFile(file, bytes);
    }

    it('a hand-made torn last record opens with a warning and is cut off', async () => {
      const { directory, file, recordStarts } = await smallLog('torn');
      const last = recordStarts.at(-1)!;
      await truncate(file, last + 100);
      const log = new FileEventLog(directory);
      const report = await log.open();
      const warnings = report.warnings.filter((w) => !/checkpoint/.test(w)); // the checkpoint written on close covered the damaged bytes
      try {
        assert.deepEqual(warnings.length, 1);
        assert.match(warnings[0]!, new RegExp(`cut off a torn last record in ${file} at byte ${last} \\(100 bytes\\)`));
        assert.equal(report.lastPosition, 5);
        assert.equal((await collect(log.read())).length, 5);
        assert.equal((await stat(file)).size, last);
      } finally {
        await log.close();
      }
    });

    it('a flipped byte in the last record opens with a warning', async () => {
      const { directory, file, recordStarts } = await smallLog('flipped-last');
      await flipByte(file, recordStarts.at(-1)! + 120);
      const log = new FileEventLog(directory);
      const report = await log.open();
      await log.close();
      assert.ok(report.warnings.some((w) => /cut off a torn last record .*checksum mismatch/.test(w)), report.warnings.join('\n'));
      assert.equal(report.lastPosition, 5);
    });

    it('a flipped byte mid-file fails open with a clear error naming the file and offset', async () => {
      const { directory, file, recordStarts } = await smallLog('flipped-middle');
      await flipByte(file, recordStarts[2]! + 120);
      await assert.rejects(new FileEventLog(directory).open(), (error: unknown) => {
        assert.ok(error instanceof LogCorruptionError);
        assert.equal(error.message, `event log ${file} is corrupt at byte ${recordStarts[2]}: checksum mismatch; an intact commit follows at byte ${recordStarts[3]}, so this is damage inside the log, not a torn tail`);
        return true;
      });
      const readOnly = new FileEventLog(file, { readOnly: true });
      await assert.rejects(readOnly.open(), LogCorruptionError, 'read-only replay refuses it too');
    });
  });
}
