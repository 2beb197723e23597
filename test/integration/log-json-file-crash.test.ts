import 'reflect-metadata';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { DriverContext, LogEntry } from '../../core/plugins/driver.js';
import { JsonFileLogDriver } from '../../plugins/log-json-file/json-file-log-driver.js';
import { collectLog, logContainerId, logTime } from '../log-conformance.js';

// A real daemon crash: a child process writes chunks through the driver as the engine does (ACK
// after write() resolved) and is killed with SIGKILL mid-stream. A new driver on the same folder
// must have stored everything ACKed, and after the "shim" re-sends what was not ACKed, every
// chunk must be there exactly once, in order.

const CHILD_ENV = 'TINY_DOCKER_LOG_CRASH_CHILD';
const id = logContainerId(0xc0ffee);

function chunk(i: number): LogEntry {
  return { stream: i % 5 === 4 ? 'stderr' : 'stdout', time: logTime(i / 1000), data: Buffer.from(`chunk ${i} ${'.'.repeat(i % 50)}\n`) };
}

/** endOffset of each chunk: the running total of bytes. */
function endOffsets(count: number): number[] {
  const ends: number[] = [];
  let offset = 0;
  for (let i = 0; i < count; i++) ends.push((offset += chunk(i).data.length));
  return ends;
}

function context(stateDir: string): DriverContext {
  return {
    dataRoot: stateDir,
    execRoot: stateDir,
    stateDir,
    runDir: stateDir,
    logger: { info: () => undefined, warn: (m) => process.stderr.write(`${m}\n`), error: (m) => process.stderr.write(`${m}\n`) },
  };
}

async function runChild(stateDir: string, options: Record<string, string>): Promise<void> {
  const driver = new JsonFileLogDriver();
  await driver.init(context(stateDir));
  const writer = await driver.open(id, options);
  const ends = endOffsets(1_000_000);
  for (let i = 0; ; i++) {
    if (ends[i]! <= writer.storedOffset) continue;
    await writer.write(chunk(i), ends[i]!);
    process.stdout.write(`ack ${i}\n`);
  }
}

if (process.env[CHILD_ENV]) {
  await runChild(process.env[CHILD_ENV], JSON.parse(process.env.TINY_DOCKER_LOG_CRASH_OPTIONS ?? '{}') as Record<string, string>);
} else {
  describe('json-file survives a kill -9 of the daemon (integration: real processes)', () => {
    let scratch = '';
    before(async () => {
      scratch = await mkdtemp(join(process.env.TINY_DOCKER_TEST_SCRATCH ?? tmpdir(), 'log-crash-'));
    });
    after(async () => {
      await rm(scratch, { recursive: true, force: true });
    });

    /** Starts the writer child, kills it with SIGKILL after `acks` ACKs; returns the last ACKed chunk. */
    async function crashAfter(stateDir: string, acks: number, options: Record<string, string>): Promise<number> {
      const env: NodeJS.ProcessEnv = { ...process.env, [CHILD_ENV]: stateDir, TINY_DOCKER_LOG_CRASH_OPTIONS: JSON.stringify(options) };
      delete env.NODE_TEST_CONTEXT;
      const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], { env, stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
      let last = -1;
      let seen = 0;
      for await (const line of createInterface({ input: child.stdout })) {
        const m = /^ack (\d+)$/.exec(line);
        if (!m) continue;
        last = Number(m[1]);
        if (++seen === acks) child.kill('SIGKILL');
      }
      assert.equal(await exited, 'SIGKILL');
      return last;
    }

    /**
     * Opens a new driver on the folder, checks what survived, and re-sends as the shim would:
     * everything after the last chunk the parent saw ACKed, up to `extra` chunks past the stored
     * end (the child may have stored many more than the parent read ACKs for before the kill
     * landed: the ACK pipe holds thousands). Returns the driver and the number of chunks in all.
     */
    async function restartAndResend(
      stateDir: string,
      lastAcked: number,
      extra: number,
      options: Record<string, string>,
    ): Promise<{ driver: JsonFileLogDriver; total: number }> {
      const driver = new JsonFileLogDriver();
      await driver.init(context(stateDir));
      const writer = await driver.open(id, options);
      const ends = endOffsets(lastAcked + 1);
      assert.ok(writer.storedOffset >= ends[lastAcked]!, `stored ${writer.storedOffset} < ACKed ${ends[lastAcked]}`);
      let storedIndex = lastAcked;
      for (let end = ends[lastAcked]!; end < writer.storedOffset; ) end += chunk(++storedIndex).data.length;
      assert.equal(endOffsets(storedIndex + 1)[storedIndex], writer.storedOffset, 'storedOffset is the end of a whole chunk');
      const total = storedIndex + 1 + extra;
      const allEnds = endOffsets(total);
      // The shim re-sends everything after the last ACK; the engine drops what is stored already.
      for (let i = lastAcked + 1; i < total; i++) if (allEnds[i]! > writer.storedOffset) await writer.write(chunk(i), allEnds[i]!);
      await writer.close();
      return { driver, total };
    }

    it('keeps every ACKed chunk and, after the re-send, each chunk exactly once', { timeout: 60_000 }, async () => {
      const stateDir = join(scratch, 'plain');
      let lastAcked = await crashAfter(stateDir, 3000, {});
      const first = await restartAndResend(stateDir, lastAcked, 500, {});
      await first.driver.close();
      // And once more, from where the first re-send left off.
      lastAcked = await crashAfter(stateDir, 2000, {});
      const { driver, total } = await restartAndResend(stateDir, lastAcked, 500, {});
      const read = await collectLog(driver.read(id, {}));
      assert.equal(read.length, total);
      read.forEach((e, i) => assert.equal(e.data.toString(), chunk(i).data.toString(), `chunk ${i}`));
      const raw = await readFile(join(stateDir, id, `${id}-json.log`), 'utf8');
      assert.ok(raw.endsWith('\n'), 'no torn line left');
      await driver.close();
    });

    it('with rotation the newest files hold a contiguous, duplicate-free run ending with the last chunk', { timeout: 60_000 }, async () => {
      const stateDir = join(scratch, 'rotated');
      const options = { 'max-size': '8k', 'max-file': '3' };
      const lastAcked = await crashAfter(stateDir, 3000, options);
      const { driver, total } = await restartAndResend(stateDir, lastAcked, 300, options);
      const read = await collectLog(driver.read(id, {}));
      const firstIndex = Number(/^chunk (\d+) /.exec(read[0]!.data.toString())![1]);
      read.forEach((e, k) => assert.equal(e.data.toString(), chunk(firstIndex + k).data.toString()));
      assert.equal(firstIndex + read.length, total);
      assert.ok((await readdir(join(stateDir, id))).length <= 3);
      await driver.close();
    });
  });
}
