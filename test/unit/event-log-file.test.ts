import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFile, cp, mkdir, mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { containerStream, DAEMON_STREAM, type EventEnvelope } from '../../events/index.js';
import { FileEventLog } from '../../core/eventlog/file-event-log.js';
import { checkpointPathOf } from '../../core/eventlog/log-checkpoint.js';
import { LogCorruptionError } from '../../core/eventlog/log-corruption-error.js';
import { LogLockedError } from '../../core/eventlog/log-lock.js';
import { containerIdFor, sampleEvents } from './event-log-conformance.js';

let scratch = '';
before(async () => {
  scratch = await mkdtemp(join(process.env.TINY_DOCKER_TEST_SCRATCH ?? tmpdir(), 'event-log-file-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

let counter = 0;
async function freshDirectory(): Promise<string> {
  const directory = join(scratch, `log-${++counter}`);
  await mkdir(directory, { recursive: true });
  return directory;
}

async function collect(iterable: AsyncIterable<EventEnvelope>): Promise<EventEnvelope[]> {
  const out: EventEnvelope[] = [];
  for await (const envelope of iterable) out.push(envelope);
  return out;
}

/** A closed log holding `containers` single-event appends, then one 3-event append on container 1000. */
async function writeLog(containers: number, withMultiEventCommit = false): Promise<{ directory: string; file: string }> {
  const directory = await freshDirectory();
  const log = new FileEventLog(directory);
  await log.open();
  for (let n = 1; n <= containers; n++) await log.append(containerStream(containerIdFor(n)), [sampleEvents.created(n)], 'no-stream');
  if (withMultiEventCommit) {
    await log.append(containerStream(containerIdFor(1000)), [sampleEvents.created(1000), sampleEvents.started(1000), sampleEvents.exited(1000)], 'no-stream');
  }
  await log.close();
  return { directory, file: join(directory, FileEventLog.FILE_NAME) };
}

/** Byte offsets where each line of the file starts (the header is line 0). */
function lineStarts(bytes: Buffer): number[] {
  const starts = [0];
  for (let i = bytes.indexOf(10); i >= 0 && i + 1 < bytes.length; i = bytes.indexOf(10, i + 1)) starts.push(i + 1);
  return starts;
}

async function flipByte(file: string, offset: number): Promise<void> {
  const bytes = await readFile(file);
  bytes[offset] = bytes[offset]! ^ 0x01;
  await writeFile(file, bytes);
}

/**
 * Opens the log; `warnings` leaves out the note that the log no longer matches its checkpoint
 * (these tests damage bytes that the checkpoint written on close covered, which a crash cannot do).
 */
async function openWarnings(directory: string): Promise<{ log: FileEventLog; warnings: readonly string[] }> {
  const log = new FileEventLog(directory);
  const report = await log.open();
  return { log, warnings: report.warnings.filter((w) => !/checkpoint/.test(w)) };
}

describe('FileEventLog on disk (unit)', () => {
  it('writes a header line, then one checksummed line per event: "<crc32> <length> <index>/<count> <json>"', async () => {
    const { file } = await writeLog(2, true);
    const text = await readFile(file, 'utf8');
    const lines = text.split('\n');
    assert.equal(lines[0], 'tiny-docker-event-log 1');
    assert.equal(lines.at(-1), '', 'the file ends with a newline');
    const records = lines.slice(1, -1);
    assert.equal(records.length, 5);
    const groups: string[] = [];
    for (const line of records) {
      const match = /^([0-9a-f]{8}) (\d+) (\d+\/\d+) (\{.*\})$/.exec(line);
      assert.ok(match, line);
      const [, checksum, length, group, json] = match;
      assert.equal(Number(length), Buffer.byteLength(json!));
      assert.equal(checksum, (crc32(line.slice(9)) >>> 0).toString(16).padStart(8, '0'));
      assert.deepEqual(Object.keys(JSON.parse(json!) as object), ['position', 'streamId', 'streamVersion', 'time', 'type', 'schemaVersion', 'data', 'metadata']);
      groups.push(group!);
    }
    assert.deepEqual(groups, ['1/1', '1/1', '1/3', '2/3', '3/3']);
  });

  it('cuts off a torn last record (a crash mid-write) with a warning, and appends after it', async () => {
    const { directory, file } = await writeLog(3);
    const bytes = await readFile(file);
    const lastStart = lineStarts(bytes).at(-1)!;
    await truncate(file, lastStart + 40);
    const { log, warnings } = await openWarnings(directory);
    try {
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, new RegExp(`cut off a torn last record in .*events\\.log at byte ${lastStart} \\(40 bytes\\)`));
      assert.equal((await stat(file)).size, lastStart);
      assert.equal(log.lastPosition(), 2);
      assert.equal(log.streamVersion(containerStream(containerIdFor(3))), 0);
      const [envelope] = await log.append(containerStream(containerIdFor(3)), [sampleEvents.created(3)], 'no-stream');
      assert.equal(envelope!.position, 3);
      assert.deepEqual((await collect(log.read())).map((e) => e.position), [1, 2, 3]);
    } finally {
      await log.close();
    }
  });

  it('treats zeros past the last record (a file extended but not written) as a torn tail', async () => {
    const { directory, file } = await writeLog(2);
    const size = (await stat(file)).size;
    await appendFile(file, Buffer.alloc(4096));
    const { log, warnings } = await openWarnings(directory);
    await log.close();
    assert.match(warnings[0]!, new RegExp(`at byte ${size} \\(4096 bytes\\)`));
    assert.equal((await stat(file)).size, size);
  });

  it('a flipped byte in the last record is a torn tail: cut off with a warning, never mis-read', async () => {
    const { directory, file } = await writeLog(3);
    const lastStart = lineStarts(await readFile(file)).at(-1)!;
    await flipByte(file, lastStart + 60);
    const { log, warnings } = await openWarnings(directory);
    try {
      assert.match(warnings[0]!, /checksum mismatch/);
      assert.equal(log.lastPosition(), 2);
    } finally {
      await log.close();
    }
  });

  it('a flipped newline in the last record is a torn tail too', async () => {
    const { directory, file } = await writeLog(3);
    const size = (await stat(file)).size;
    await flipByte(file, size - 1);
    const { log, warnings } = await openWarnings(directory);
    try {
      assert.equal(warnings.length, 1);
      assert.equal(log.lastPosition(), 2, 'the log ends before the damaged record');
    } finally {
      await log.close();
    }
  });

  it('keeps a commit whole: a commit damaged in its middle is cut off entirely, even its intact records', async () => {
    const { directory, file } = await writeLog(2, true);
    const starts = lineStarts(await readFile(file));
    // starts: [header, c1, c2, 1/3, 2/3, 3/3]: damage 2/3, leave 1/3 and 3/3 intact.
    await flipByte(file, starts[4]! + 30);
    const { log, warnings } = await openWarnings(directory);
    try {
      assert.match(warnings[0]!, new RegExp(`at byte ${starts[3]}.*1 intact event`));
      assert.equal(log.lastPosition(), 2);
      assert.equal(log.streamVersion(containerStream(containerIdFor(1000))), 0);
      assert.equal((await stat(file)).size, starts[3]);
    } finally {
      await log.close();
    }
  });

  it('a commit missing its last records at the end of the file is cut off', async () => {
    const { directory, file } = await writeLog(2, true);
    const starts = lineStarts(await readFile(file));
    await truncate(file, starts[5]!); // 1/3 and 2/3 complete, 3/3 gone
    const { log, warnings } = await openWarnings(directory);
    await log.close();
    assert.match(warnings[0]!, /holds 2 of its 3 records/);
    assert.equal((await stat(file)).size, starts[3]);
  });

  it('a damaged record in the middle fails open with an error naming the file and byte offset', async () => {
    const { directory, file } = await writeLog(5);
    const starts = lineStarts(await readFile(file));
    await flipByte(file, starts[2]! + 70);
    const sizeBefore = (await stat(file)).size;
    for (let attempt = 0; attempt < 2; attempt++) {
      // The second attempt proves the failed open released its lock.
      await assert.rejects(new FileEventLog(directory).open(), (error: unknown) => {
        assert.ok(error instanceof LogCorruptionError);
        assert.equal(error.file, file);
        assert.equal(error.offset, starts[2]);
        assert.match(error.message, new RegExp(`event log .*events\\.log is corrupt at byte ${starts[2]}: checksum mismatch; an intact commit follows at byte ${starts[3]}`));
        return true;
      });
    }
    assert.equal((await stat(file)).size, sizeBefore, 'nothing was cut');
  });

  it('a flipped newline inside the log is corruption, not a torn tail', async () => {
    const { directory, file } = await writeLog(4);
    const starts = lineStarts(await readFile(file));
    await flipByte(file, starts[4]! - 1); // the newline ending record 3, followed by record 4
    await assert.rejects(new FileEventLog(directory).open(), (error: unknown) => error instanceof LogCorruptionError && error.offset === starts[3]);
  });

  it('a record with a valid checksum but out of sequence is corruption, even at the end', async () => {
    const { directory, file } = await writeLog(3);
    const bytes = await readFile(file);
    const lastStart = lineStarts(bytes).at(-1)!;
    await appendFile(file, bytes.subarray(lastStart));
    await assert.rejects(new FileEventLog(directory).open(), /position 3 where 4 was due/);
  });

  it('refuses a file that is not an event log, and a newer format', async () => {
    const directory = await freshDirectory();
    await writeFile(join(directory, FileEventLog.FILE_NAME), 'hello\n');
    await assert.rejects(new FileEventLog(directory).open(), /is not a tiny-docker event log/);
    await writeFile(join(directory, FileEventLog.FILE_NAME), 'tiny-docker-event-log 9\n');
    await assert.rejects(new FileEventLog(directory).open(), /format 9; this engine reads format 1/);
  });

  it('starts afresh from a header torn at creation', async () => {
    const directory = await freshDirectory();
    await writeFile(join(directory, FileEventLog.FILE_NAME), 'tiny-dock');
    const { log, warnings } = await openWarnings(directory);
    try {
      assert.match(warnings[0]!, /only part of its header/);
      await log.append('daemon', [{ type: 'DaemonStopped', data: { pid: 1 } }], 'any');
      assert.equal(log.lastPosition(), 1);
    } finally {
      await log.close();
    }
  });

  it('lets only one writer open a directory: a second one fails with a clear message', async () => {
    const directory = await freshDirectory();
    const first = new FileEventLog(directory);
    await first.open();
    try {
      await assert.rejects(new FileEventLog(directory).open(), (error: unknown) => {
        assert.ok(error instanceof LogLockedError);
        assert.equal(error.message, `this process (pid ${process.pid}) already holds the lock of ${directory}: release it before taking it again`);
        return true;
      });
    } finally {
      await first.close();
    }
    const again = new FileEventLog(directory);
    await again.open();
    await again.close();
  });

  it('refuses a lock held by another live process, and takes over one whose process is gone', async () => {
    const directory = await freshDirectory();
    const lockFile = join(directory, 'events.lock');
    const init = (await readFile('/proc/1/stat', 'utf8')).split(') ')[1]!.split(' ')[19];
    await writeFile(lockFile, `1 ${init}\n`);
    await assert.rejects(new FileEventLog(directory).open(), /another mini-dockerd \(pid 1\) is using/);
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    await writeFile(lockFile, `${gone.stdout} 12345\n`);
    const warned: string[] = [];
    const log = new FileEventLog(directory, (message) => warned.push(message));
    const report = await log.open();
    await log.close();
    assert.match(report.warnings[0]!, new RegExp(`took over the lock of .* from pid ${gone.stdout}, which is no longer running`));
    assert.deepEqual(warned, report.warnings);
    await assert.rejects(stat(lockFile), /ENOENT/, 'close removes the lock');
  });

  it('reads back stream ids that need escaping or are not ASCII after a full scan', async () => {
    const directory = await freshDirectory();
    const odd = ['say "hi"\\', 'ünïcode-流', 'tab\there'];
    const log = new FileEventLog(directory);
    await log.open();
    for (const streamId of odd) {
      await log.append(streamId, [{ type: 'DaemonStopped', data: { pid: 1 } }], 'no-stream');
      await log.append(streamId, [{ type: 'DaemonStopped', data: { pid: 2 } }], 1);
    }
    await log.close();
    await rm(checkpointPathOf(join(directory, FileEventLog.FILE_NAME)));
    const reopened = new FileEventLog(directory);
    await reopened.open();
    try {
      for (const streamId of odd) assert.equal(reopened.streamVersion(streamId), 2, streamId);
      assert.deepEqual((await collect(reopened.read())).map((e) => e.streamId), odd.flatMap((id) => [id, id]));
    } finally {
      await reopened.close();
    }
  });

  it('removes temporary files that a killed writer left behind, once it holds the lock', async () => {
    const directory = await freshDirectory();
    const gone = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    const leftovers = [`events.lock.${gone}.0badc0de`, `events.lock.stale.${gone}.0badc0de`, `events.log.checkpoint.${gone}.0badc0de.tmp`];
    for (const name of [...leftovers, 'unrelated.txt']) await writeFile(join(directory, name), 'x');
    const log = new FileEventLog(directory);
    await log.open();
    await log.close();
    for (const name of leftovers) await assert.rejects(stat(join(directory, name)), /ENOENT/, name);
    await stat(join(directory, 'unrelated.txt'));
  });

  it('read-only mode reads a live or copied log without the lock, and skips a torn tail without cutting it', async () => {
    const { directory, file } = await writeLog(3);
    const writer = new FileEventLog(directory);
    await writer.open();
    try {
      const reader = new FileEventLog(directory, { readOnly: true });
      await reader.open();
      assert.equal((await collect(reader.read())).length, 3);
      await assert.rejects(reader.append('daemon', [{ type: 'DaemonStopped', data: { pid: 1 } }], 'any'), /read-only/);
      await reader.close();
    } finally {
      await writer.close();
    }
    await appendFile(file, '0badc0de 12 1/1 {"posit');
    const size = (await stat(file)).size;
    const warned: string[] = [];
    const copy = new FileEventLog(file, { readOnly: true, warn: (message) => warned.push(message) });
    const report = await copy.open();
    try {
      assert.match(report.warnings[0]!, /ignored a torn last record/);
      assert.deepEqual(warned, report.warnings);
      assert.equal(copy.lastPosition(), 3);
      assert.deepEqual((await collect(copy.read({ after: 1 }))).map((e) => e.position), [2, 3]);
    } finally {
      await copy.close();
    }
    assert.equal((await stat(file)).size, size, 'read-only never truncates');
    await assert.rejects(new FileEventLog(join(directory, 'missing.log'), { readOnly: true }).open(), /no event log at/);
  });

  it('refuses to be used before open and after close', async () => {
    const directory = await freshDirectory();
    const log = new FileEventLog(directory);
    assert.throws(() => log.lastPosition(), /not open/);
    await log.open();
    await log.close();
    await assert.rejects(log.append('daemon', [{ type: 'DaemonStopped', data: { pid: 1 } }], 'any'), /not open/);
  });

  it('finds positions through the sparse index after a reopen', async () => {
    const directory = await freshDirectory();
    const log = new FileEventLog(directory);
    await log.open();
    await Promise.all(Array.from({ length: 2100 }, (_, i) => log.append(containerStream(containerIdFor(i + 1)), [sampleEvents.created(i + 1)], 'no-stream')));
    await log.close();
    const reopened = new FileEventLog(directory);
    await reopened.open();
    try {
      for (const afterPosition of [0, 1024, 1500, 2048, 2099]) {
        const read = await collect(reopened.read({ after: afterPosition, until: afterPosition + 2 }));
        assert.deepEqual(read.map((e) => e.position), [afterPosition + 1, afterPosition + 2].filter((p) => p <= 2100));
        assert.equal(read[0]!.streamId, containerStream(containerIdFor(afterPosition + 1)));
      }
    } finally {
      await reopened.close();
    }
  });

  describe('the log checkpoint', () => {
    /** Everything a log knows about itself, to compare two opens of the same file. */
    async function describeLog(log: FileEventLog, streams: readonly string[]): Promise<unknown> {
      return { last: log.lastPosition(), versions: streams.map((s) => log.streamVersion(s)), events: await collect(log.read({ after: 1000 })) };
    }
    const streams = Array.from({ length: 40 }, (_, i) => containerStream(containerIdFor(i + 1)));

    async function lifecycles(log: FileEventLog, rounds: number): Promise<void> {
      for (let round = 0; round < rounds; round++) {
        await Promise.all(streams.map((stream, i) => log.append(stream, [round === 0 ? sampleEvents.created(i + 1) : sampleEvents.started(i + 1)], round)));
      }
    }

    it('is written on close and makes a reopen skip the record-by-record check, with the same result', async () => {
      const directory = await freshDirectory();
      const log = new FileEventLog(directory);
      await log.open();
      await lifecycles(log, 30);
      const before = await describeLog(log, streams);
      await log.close();
      const file = join(directory, FileEventLog.FILE_NAME);
      const text = await readFile(checkpointPathOf(file), 'utf8');
      const header = JSON.parse(text.split('\n')[0]!) as { logBytes: number; lastPosition: number };
      assert.equal(header.logBytes, (await stat(file)).size);
      assert.equal(header.lastPosition, 1200);

      const withCheckpoint = new FileEventLog(directory);
      assert.deepEqual((await withCheckpoint.open()).warnings, []);
      assert.deepEqual(await describeLog(withCheckpoint, streams), before);
      await withCheckpoint.close();
      await rm(checkpointPathOf(file));
      const withoutCheckpoint = new FileEventLog(directory);
      assert.deepEqual((await withoutCheckpoint.open()).warnings, []);
      assert.deepEqual(await describeLog(withoutCheckpoint, streams), before);
      await withoutCheckpoint.close();
    });

    it('is what open() trusts for the bytes it covers (proved by a forged but well-formed checkpoint)', async () => {
      const directory = await freshDirectory();
      const log = new FileEventLog(directory);
      await log.open();
      await lifecycles(log, 2);
      await log.close();
      const path = checkpointPathOf(join(directory, FileEventLog.FILE_NAME));
      const [headerLine, bodyLine] = (await readFile(path, 'utf8')).split('\n');
      const body = JSON.parse(bodyLine!) as { streamIds: string[]; streamVersions: number[] };
      body.streamVersions[body.streamIds.indexOf(streams[0]!)] = 77;
      const forged = JSON.stringify(body);
      const header = { ...(JSON.parse(headerLine!) as object), bodyBytes: Buffer.byteLength(forged), bodyCrc32: (crc32(forged) >>> 0).toString(16).padStart(8, '0') };
      await writeFile(path, `${JSON.stringify(header)}\n${forged}\n`);
      const reopened = new FileEventLog(directory);
      await reopened.open();
      assert.equal(reopened.streamVersion(streams[0]!), 77);
      await reopened.close();
    });

    it('is written as the log grows, so a crashed log only checks the records after it', async () => {
      const directory = await freshDirectory();
      const log = new FileEventLog(directory, { checkpointEveryBytes: 64 * 1024 });
      await log.open();
      await lifecycles(log, 20); // ~17 KiB per round: checkpoints every 4 rounds
      await log.append(DAEMON_STREAM, [{ type: 'DaemonStopped', data: { pid: 1 } }], 'any'); // past any checkpoint
      // A copy taken while the writer runs is what a crash leaves: a checkpoint behind the end of the log.
      const crashed = join(scratch, `crashed-${++counter}`);
      await cp(directory, crashed, { recursive: true, filter: (source) => !source.endsWith('events.lock') });
      const expected = await describeLog(log, streams);
      await log.close();
      const file = join(crashed, FileEventLog.FILE_NAME);
      const header = JSON.parse((await readFile(checkpointPathOf(file), 'utf8')).split('\n')[0]!) as { logBytes: number };
      const size = (await stat(file)).size;
      assert.ok(header.logBytes > size / 2 && header.logBytes < size, `checkpoint at ${header.logBytes} of ${size} bytes`);
      const recovered = new FileEventLog(crashed);
      assert.deepEqual((await recovered.open()).warnings, []);
      assert.deepEqual(await describeLog(recovered, streams), expected);
      await recovered.close();
    });

    it('is ignored with a warning when damaged, or when it covers more than the log holds', async () => {
      const directory = await freshDirectory();
      const log = new FileEventLog(directory);
      await log.open();
      await lifecycles(log, 3);
      const expected = await describeLog(log, streams);
      await log.close();
      const file = join(directory, FileEventLog.FILE_NAME);
      const path = checkpointPathOf(file);
      const good = await readFile(path, 'utf8');
      await writeFile(path, good.replace('"streamIds":["', '"streamIds":["x'));
      const damaged = new FileEventLog(directory);
      assert.match((await damaged.open()).warnings[0]!, /ignored the checkpoint .*damaged checkpoint/);
      assert.deepEqual(await describeLog(damaged, streams), expected);
      await damaged.close(); // writes a good checkpoint again

      const size = (await stat(file)).size;
      const lastRecord = lineStarts(await readFile(file)).at(-1)!;
      await truncate(file, lastRecord);
      const shorter = new FileEventLog(directory);
      const report = await shorter.open();
      await shorter.close();
      assert.match(report.warnings[0]!, new RegExp(`ignored the checkpoint .*: it covers ${size} bytes, the log has ${lastRecord}`));
      // The last round was one group commit of 40 events: missing its last record, all of it goes.
      assert.match(report.warnings[1]!, /the last commit holds 39 of its 40 records/);
      assert.equal(report.lastPosition, 80);
    });

    it('does not hide damage inside the bytes it covers', async () => {
      const { directory, file } = await writeLog(5);
      const starts = lineStarts(await readFile(file));
      await flipByte(file, starts[2]! + 70);
      const warned: string[] = [];
      await assert.rejects(new FileEventLog(directory, (message) => warned.push(message)).open(), LogCorruptionError);
      assert.match(warned[0]!, /no longer matches its checkpoint/);
    });
  });
});
