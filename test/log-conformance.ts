import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DriverContext, LogDriver, LogEntry, LogWriter } from '../core/plugins/driver.js';
import { DriverKinds } from '../core/plugins/kinds.js';

/** What the conformance suite needs to know about a driver beyond the interface. */
export interface LogDriverConformanceOptions {
  /**
   * Whether the driver rotates by `--log-opt max-size=<size> --log-opt max-file=<n>` (k/m/g units).
   * A driver that does not must refuse those options.
   */
  readonly rotates: boolean;
  /**
   * Whether the driver reads back what it stored (default true). A write-only driver (a shipper
   * that sends lines elsewhere) sets false: its `read` must refuse before the first entry with
   * Docker's "configured logging driver does not support reading", so `logs` answers an error.
   */
  readonly readable?: boolean;
}

/** A new, not yet initialised driver, as the daemon's container would make it. */
export type LogDriverFactory = () => LogDriver;

/** A 64-hex container id made from a small number, so tests read well. */
export function logContainerId(n: number): string {
  return n.toString(16).padStart(64, '0');
}

/** RFC 3339 with nanoseconds, `seconds` after 2026-01-02T03:04:05Z (fractions as given, e.g. 0.5). */
export function logTime(seconds: number, nanos = 0): string {
  const base = Date.UTC(2026, 0, 2, 3, 4, 5) + Math.floor(seconds) * 1000;
  const iso = new Date(base).toISOString().slice(0, 19);
  const totalNanos = Math.round((seconds - Math.floor(seconds)) * 1e9) + nanos;
  return `${iso}.${String(totalNanos).padStart(9, '0')}Z`;
}

/** `count` chunks: line i is "line <i>\n" on stdout, or stderr for every third; times 1 ms apart. */
export function sampleEntries(count: number, from = 0): LogEntry[] {
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    return { stream: i % 3 === 2 ? 'stderr' : 'stdout', time: logTime(i / 1000), data: Buffer.from(`line ${i}\n`) };
  });
}

export async function collectLog(iterable: AsyncIterable<LogEntry>): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const entry of iterable) out.push(entry);
  return out;
}

/** Writes entries as the engine does: each ends at the previous offset plus its length; returns the end offset. */
export async function writeEntries(writer: LogWriter, entries: readonly LogEntry[], startOffset = writer.storedOffset): Promise<number> {
  let offset = startOffset;
  for (const entry of entries) {
    offset += entry.data.length;
    await writer.write(entry, offset);
  }
  return offset;
}

function text(entries: readonly LogEntry[]): string[] {
  return entries.map((e) => `${e.stream} ${e.data.toString('latin1')}`);
}

function assertSameEntries(actual: readonly LogEntry[], expected: readonly LogEntry[], message?: string): void {
  assert.deepEqual(
    actual.map((e) => ({ stream: e.stream, time: e.time, data: e.data.toString('hex') })),
    expected.map((e) => ({ stream: e.stream, time: e.time, data: e.data.toString('hex') })),
    message,
  );
}

/** A follow read collected in the background, with a way to wait until it has seen `n` entries. */
function follow(iterable: AsyncIterable<LogEntry>): { entries: LogEntry[]; done: Promise<void>; seen(n: number): Promise<void> } {
  const entries: LogEntry[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const done = (async () => {
    for await (const entry of iterable) {
      entries.push(entry);
      for (const w of waiters.filter((w) => entries.length >= w.n)) w.resolve();
    }
  })();
  return {
    entries,
    done,
    seen: (n) =>
      entries.length >= n
        ? Promise.resolve()
        : Promise.race([new Promise<void>((resolve) => waiters.push({ n, resolve })), done.then(() => assert.fail(`the follow ended after ${entries.length} of ${n} entries`))]),
  };
}

async function filesUnder(dir: string): Promise<{ path: string; size: number }[]> {
  const out: { path: string; size: number }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else out.push({ path, size: (await stat(path)).size });
  }
  return out;
}

/**
 * The behaviour every log driver must have (the read-back cases only for `readable` drivers):
 * call it from the driver's unit test with a factory returning a new instance. Each test initialises its own instances on a
 * fresh state folder (a second instance on the same folder is a daemon restart).
 */
export function logDriverConformance(name: string, factory: LogDriverFactory, options: LogDriverConformanceOptions): void {
  describe(`log driver conformance: ${name}`, () => {
    let scratch = '';
    let counter = 0;
    const live: LogDriver[] = [];
    before(async () => {
      scratch = await mkdtemp(join(process.env.TINY_DOCKER_TEST_SCRATCH ?? tmpdir(), `log-conformance-${name}-`));
    });
    after(async () => {
      await Promise.all(live.map((d) => d.close?.()));
      await rm(scratch, { recursive: true, force: true });
    });

    /** A fresh data root; `start` makes a driver on it (again, for a restart). */
    async function fixture(): Promise<{ stateDir: string; warnings: string[]; start(): Promise<LogDriver> }> {
      const dataRoot = join(scratch, `root-${++counter}`);
      await mkdir(dataRoot, { recursive: true });
      const warnings: string[] = [];
      let stateDir = '';
      return {
        get stateDir() {
          return stateDir;
        },
        warnings,
        async start() {
          const driver = factory();
          stateDir = join(dataRoot, driver.id);
          const context: DriverContext = {
            dataRoot,
            execRoot: join(dataRoot, 'run'),
            stateDir,
            runDir: join(dataRoot, 'run', driver.id),
            logger: { info: () => undefined, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
          };
          // As the daemon: the driver's folders exist before init.
          await mkdir(context.stateDir, { recursive: true });
          await mkdir(context.runDir, { recursive: true });
          const status = await driver.init(context);
          assert.deepEqual(status, { status: 'ok' });
          live.push(driver);
          return driver;
        },
      };
    }

    const id = logContainerId(1);

    it('is a log.v1 driver whose id ends with its name', async () => {
      const driver = await (await fixture()).start();
      assert.equal(driver.id, `${DriverKinds.log}.${driver.name}`);
      assert.equal(driver.name, name);
    });

    it('refuses an unknown --log-opt with a one-line message naming it, in validateOptions and open', async () => {
      const driver = await (await fixture()).start();
      assert.doesNotThrow(() => driver.validateOptions({}));
      assert.throws(() => driver.validateOptions({ 'no-such-opt': '1' }), (err: Error) => err.message.includes('no-such-opt') && !err.message.includes('\n'));
      await assert.rejects(driver.open(id, { 'no-such-opt': '1' }), /no-such-opt/);
    });

    if (options.readable === false) {
      it('cannot read: read refuses before its first entry, naming why', async () => {
        const driver = await (await fixture()).start();
        const writer = await driver.open(id, {});
        await writeEntries(writer, sampleEntries(2));
        // Either way is fine: read itself throws, or its first step rejects.
        await assert.rejects(async () => driver.read(id, {})[Symbol.asyncIterator]().next(), /does not support reading/);
        await writer.close();
      });

      it('takes every chunk, in order, and storedOffset follows what it took', async () => {
        const driver = await (await fixture()).start();
        const writer = await driver.open(id, {});
        assert.equal(writer.storedOffset, 0);
        const end = await writeEntries(writer, sampleEntries(25));
        assert.equal(writer.storedOffset, end);
        await writer.write(sampleEntries(1)[0]!, 1); // a stale re-send does not move it back
        assert.equal(writer.storedOffset, end);
        await writer.close();
      });
    } else {
      it('reads back what was written, in order, with stream, time and exact bytes', async () => {
        const driver = await (await fixture()).start();
        const writer = await driver.open(id, {});
        assert.equal(writer.storedOffset, 0);
        const euro = Buffer.from('€', 'utf8');
        const entries: LogEntry[] = [
          { stream: 'stdout', time: logTime(0), data: Buffer.from('hello\n') },
          { stream: 'stderr', time: logTime(0.000000001), data: Buffer.from('no newline at the end') },
          { stream: 'stdout', time: logTime(1), data: Buffer.from('two\nlines\r\nwith CRLF\n') },
          { stream: 'stdout', time: logTime(1.5), data: Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0a, 0x5c, 0x6e, 0x1b, 0x5b]) },
          { stream: 'stdout', time: logTime(2), data: Buffer.concat([Buffer.from('split '), euro.subarray(0, 2)]) },
          { stream: 'stdout', time: logTime(2), data: Buffer.concat([euro.subarray(2), Buffer.from(' char\n')]) },
          { stream: 'stderr', time: logTime(3), data: Buffer.from('\ufeffBOM, tab\t, quote ", backslash \\, \\n literally, \u2028 and \u0085 and 😀\n') },
          { stream: 'stdout', time: logTime(4), data: Buffer.alloc(64 * 1024, 'x') },
          { stream: 'stdout', time: logTime(5), data: Buffer.from('{"log":"not really","stream":"stderr"}\n') },
        ];
        const end = await writeEntries(writer, entries);
        assert.equal(writer.storedOffset, end);
        assertSameEntries(await collectLog(driver.read(id, {})), entries);
        await writer.close();
        assertSameEntries(await collectLog(driver.read(id, {})), entries, 'after the writer closed');
      });

      it('reads nothing for a container that never logged', async () => {
        const driver = await (await fixture()).start();
        assert.deepEqual(await collectLog(driver.read(logContainerId(99), {})), []);
        assert.deepEqual(await collectLog(driver.read(logContainerId(99), { tail: 5 })), []);
      });

      it('keeps containers apart', async () => {
        const driver = await (await fixture()).start();
        const a = await driver.open(logContainerId(1), {});
        const b = await driver.open(logContainerId(2), {});
        await writeEntries(a, sampleEntries(3, 0));
        await writeEntries(b, sampleEntries(2, 100));
        assertSameEntries(await collectLog(driver.read(logContainerId(1), {})), sampleEntries(3, 0));
        assertSameEntries(await collectLog(driver.read(logContainerId(2), {})), sampleEntries(2, 100));
        await a.close();
        await b.close();
      });

      it('tail gives the last N entries (0: none; more than there are: all)', async () => {
        const driver = await (await fixture()).start();
        const writer = await driver.open(id, {});
        const entries = sampleEntries(50);
        await writeEntries(writer, entries);
        assertSameEntries(await collectLog(driver.read(id, { tail: 3 })), entries.slice(-3));
        assertSameEntries(await collectLog(driver.read(id, { tail: 1 })), entries.slice(-1));
        assert.deepEqual(await collectLog(driver.read(id, { tail: 0 })), []);
        assertSameEntries(await collectLog(driver.read(id, { tail: 500 })), entries);
        assertSameEntries(await collectLog(driver.read(id, { tail: -1 })), entries);
        await writer.close();
      });

      it('tail counts lines of output, not entries: a chunk of many lines is cut, a line split across chunks is one', async () => {
        const driver = await (await fixture()).start();
        const writer = await driver.open(id, {});
        const chunks: LogEntry[] = [
          { stream: 'stdout', time: logTime(0), data: Buffer.from('a1\na2\na3\n') },
          { stream: 'stdout', time: logTime(0.001), data: Buffer.from('b1\nb2 ') },
          { stream: 'stdout', time: logTime(0.002), data: Buffer.from('continued\nc1\n') },
          { stream: 'stderr', time: logTime(0.003), data: Buffer.from('e1\n') },
        ];
        await writeEntries(writer, chunks);
        const tailText = async (tail: number): Promise<string[]> => text(await collectLog(driver.read(id, { tail })));
        assert.deepEqual(await tailText(1), ['stderr e1\n']);
        assert.deepEqual(await tailText(2), ['stdout c1\n', 'stderr e1\n']);
        assert.deepEqual(await tailText(3), ['stdout b2 ', 'stdout continued\nc1\n', 'stderr e1\n']);
        assert.deepEqual(await tailText(4), ['stdout b1\nb2 ', 'stdout continued\nc1\n', 'stderr e1\n']);
        assert.deepEqual(await tailText(5), ['stdout a3\n', 'stdout b1\nb2 ', 'stdout continued\nc1\n', 'stderr e1\n']);
        assert.deepEqual(await tailText(7), text(chunks));
        assert.deepEqual(await tailText(100), text(chunks));
        // The newest line not ended by a newline yet is a line too.
        await writeEntries(writer, [{ stream: 'stdout', time: logTime(0.004), data: Buffer.from('x1\nx2') }]);
        assert.deepEqual(await tailText(2), ['stdout x1\nx2']);
        assert.deepEqual(await tailText(1), ['stdout x2']);
        await writer.close();
      });

      it('since and until select a time window, both inclusive, and tail counts inside it', async () => {
        const driver = await (await fixture()).start();
        const writer = await driver.open(id, {});
        // Times in RFC 3339 nano, which drops trailing zeros: ".1Z" is later than ".05Z" but sorts before it as a string.
        const times = ['2026-01-02T03:04:05Z', '2026-01-02T03:04:05.05Z', '2026-01-02T03:04:05.1Z', '2026-01-02T03:04:05.123456789Z', '2026-01-02T03:04:06Z', '2026-01-02T03:04:07.5Z'];
        const entries: LogEntry[] = times.map((time, i) => ({ stream: 'stdout', time, data: Buffer.from(`t${i}\n`) }));
        await writeEntries(writer, entries);
        assertSameEntries(await collectLog(driver.read(id, { since: '2026-01-02T03:04:05.1Z' })), entries.slice(2));
        assertSameEntries(await collectLog(driver.read(id, { until: '2026-01-02T03:04:05.1Z' })), entries.slice(0, 3));
        assertSameEntries(await collectLog(driver.read(id, { since: '2026-01-02T03:04:05.06Z', until: '2026-01-02T03:04:06.000000000Z' })), entries.slice(2, 5));
        assertSameEntries(await collectLog(driver.read(id, { since: '2026-01-02T04:04:05.1+01:00' })), entries.slice(2), 'a UTC offset');
        assertSameEntries(await collectLog(driver.read(id, { since: '2026-01-02T03:04:05.05Z', tail: 2 })), entries.slice(4));
        assertSameEntries(await collectLog(driver.read(id, { until: '2026-01-02T03:04:05.1Z', tail: 2 })), entries.slice(1, 3));
        assert.deepEqual(await collectLog(driver.read(id, { since: '2026-01-02T03:04:08Z' })), []);
        assert.throws(() => driver.read(id, { since: 'yesterday' }), /yesterday/);
        await writer.close();
      });

      it('follow yields the stored entries, then new ones as they are written, and ends on abort', { timeout: 20_000 }, async () => {
        const driver = await (await fixture()).start();
        const writer = await driver.open(id, {});
        const entries = sampleEntries(30);
        const stored = await writeEntries(writer, entries.slice(0, 10));
        const abort = new AbortController();
        const reader = follow(driver.read(id, { follow: true, signal: abort.signal }));
        await reader.seen(10);
        let offset = stored;
        for (const entry of entries.slice(10, 20)) {
          offset = await writeEntries(writer, [entry], offset);
          await new Promise((resolve) => setImmediate(resolve));
        }
        await reader.seen(20);
        await writeEntries(writer, entries.slice(20), offset); // a burst, then the exit: abort right after the last write
        abort.abort();
        await reader.done;
        assert.deepEqual(text(reader.entries), text(entries));
        await writer.close();
      });

      it('follow with tail starts from the last N and does not repeat them', { timeout: 20_000 }, async () => {
        const driver = await (await fixture()).start();
        const writer = await driver.open(id, {});
        const entries = sampleEntries(12);
        let offset = await writeEntries(writer, entries.slice(0, 8));
        for (const tail of [2, 0]) {
          const abort = new AbortController();
          const reader = follow(driver.read(id, { follow: true, tail, signal: abort.signal }));
          await reader.seen(tail);
          await new Promise((resolve) => setTimeout(resolve, 20));
          const fresh = sampleEntries(2, 100 + tail);
          offset = await writeEntries(writer, fresh, offset);
          abort.abort();
          await reader.done;
          assert.deepEqual(text(reader.entries), text([...(tail === 2 ? entries.slice(6, 8) : []), ...fresh]), `tail ${tail}`);
          entries.splice(8, 0, ...fresh);
        }
        await writer.close();
      });

      it('follow started before the container logs anything gets its first entries; abort with nothing ends it', { timeout: 20_000 }, async () => {
        const driver = await (await fixture()).start();
        const abort = new AbortController();
        const reader = follow(driver.read(id, { follow: true, signal: abort.signal }));
        await new Promise((resolve) => setTimeout(resolve, 20));
        const writer = await driver.open(id, {});
        await writeEntries(writer, sampleEntries(3));
        await reader.seen(3);
        abort.abort();
        await reader.done;
        assert.deepEqual(text(reader.entries), text(sampleEntries(3)));
        await writer.close();

        const idle = new AbortController();
        const quiet = follow(driver.read(logContainerId(7), { follow: true, signal: idle.signal }));
        setTimeout(() => idle.abort(), 20);
        await quiet.done;
        assert.deepEqual(quiet.entries, []);
      });

      it('two followers of one container both see every entry', { timeout: 20_000 }, async () => {
        const driver = await (await fixture()).start();
        const writer = await driver.open(id, {});
        const abort = new AbortController();
        const a = follow(driver.read(id, { follow: true, signal: abort.signal }));
        const b = follow(driver.read(id, { follow: true, tail: 0, signal: abort.signal }));
        await new Promise((resolve) => setTimeout(resolve, 20));
        await writeEntries(writer, sampleEntries(40));
        abort.abort();
        await Promise.all([a.done, b.done]);
        assert.deepEqual(text(a.entries), text(sampleEntries(40)));
        assert.deepEqual(text(b.entries), text(sampleEntries(40)));
        await writer.close();
      });

      it('recovers storedOffset after a restart (a new driver on the same state folder)', async () => {
        const fx = await fixture();
        const first = await fx.start();
        const writer = await first.open(id, {});
        const end = await writeEntries(writer, sampleEntries(7));
        // No close: the daemon was killed. A new instance opens the same folder.
        const second = await fx.start();
        const reopened = await second.open(id, {});
        assert.equal(reopened.storedOffset, end);
        assertSameEntries(await collectLog(second.read(id, {})), sampleEntries(7));
        await reopened.close();
        await writer.close();
        const third = await fx.start();
        const again = await third.open(id, {});
        assert.equal(again.storedOffset, end, 'after a clean close too');
        await again.close();
      });

      it('stores each chunk exactly once when the shim re-sends after a restart', async () => {
        const fx = await fixture();
        const entries = sampleEntries(20);
        const ends: number[] = [];
        let offset = 0;
        for (const e of entries) ends.push((offset += e.data.length));
        const first = await fx.start();
        const writer = await first.open(id, {});
        for (let i = 0; i < 12; i++) await writer.write(entries[i]!, ends[i]!);
        // The shim saw ACKs up to chunk 8 only: after the restart it re-sends 9.. ; the engine drops what is stored.
        const second = await fx.start();
        const reopened = await second.open(id, {});
        assert.equal(reopened.storedOffset, ends[11]);
        for (let i = 9; i < 20; i++) if (ends[i]! > reopened.storedOffset) await reopened.write(entries[i]!, ends[i]!);
        assertSameEntries(await collectLog(second.read(id, {})), entries);
        // The driver itself ignores a chunk that ends at or before what it stored, should one come again.
        await reopened.write(entries[3]!, ends[3]!);
        assert.equal(reopened.storedOffset, ends[19], 'a stale chunk does not move storedOffset back');
        await reopened.write(entries[19]!, ends[19]!);
        assertSameEntries(await collectLog(second.read(id, {})), entries);
        assert.equal(reopened.storedOffset, ends[19]);
        await reopened.close();
        await writer.close();
      });
    }

    if (options.rotates) {
      it('refuses bad max-size and max-file values naming the option, accepts k/m/g', async () => {
        const driver = await (await fixture()).start();
        const valid: Record<string, string>[] = [{ 'max-size': '10m', 'max-file': '3' }, { 'max-size': '1k' }, { 'max-size': '2g' }, { 'max-size': '512' }];
        for (const ok of valid) {
          assert.doesNotThrow(() => driver.validateOptions(ok), JSON.stringify(ok));
        }
        for (const [key, value] of [['max-size', '10x'], ['max-size', '0'], ['max-size', 'm'], ['max-size', ''], ['max-file', '0'], ['max-file', '-2'], ['max-file', 'three']] as const) {
          assert.throws(() => driver.validateOptions({ 'max-size': '1m', [key]: value }), (err: Error) => err.message.includes(key) && !err.message.includes('\n'), `${key}=${value}`);
        }
      });

      it('with max-size=1k max-file=2 the files never exceed the bound and read shows the newest lines', async () => {
        const fx = await fixture();
        const driver = await fx.start();
        const writer = await driver.open(id, { 'max-size': '1k', 'max-file': '2' });
        const entries = sampleEntries(300);
        let offset = 0;
        for (const [i, entry] of entries.entries()) {
          offset = await writeEntries(writer, [entry], offset);
          if (i % 10 === 0 || i === entries.length - 1) {
            const files = await filesUnder(fx.stateDir);
            for (const f of files) assert.ok(f.size <= 1024, `${f.path} is ${f.size} bytes after entry ${i}`);
            assert.ok(files.length <= 2, `${files.length} files after entry ${i}`);
          }
        }
        const read = await collectLog(driver.read(id, {}));
        assert.ok(read.length > 10 && read.length < entries.length, `${read.length} entries kept`);
        assert.deepEqual(text(read), text(entries.slice(-read.length)), 'a contiguous run of the newest entries');
        assertSameEntries(await collectLog(driver.read(id, { tail: 5 })), entries.slice(-5));
        await writer.close();
        const after = await fx.start();
        const reopened = await after.open(id, { 'max-size': '1k', 'max-file': '2' });
        assert.equal(reopened.storedOffset, offset, 'the offset is recovered across rotated files');
        await reopened.close();
      });
    } else {
      it('refuses rotation options it does not implement', async () => {
        const driver = await (await fixture()).start();
        assert.throws(() => driver.validateOptions({ 'max-size': '1k' }), /max-size/);
      });
    }

    it('remove leaves nothing behind, also with a writer open', async () => {
      const fx = await fixture();
      const driver = await fx.start();
      const rotation: Record<string, string> = options.rotates ? { 'max-size': '1k', 'max-file': '3' } : {};
      const writer = await driver.open(id, rotation);
      await writeEntries(writer, sampleEntries(100));
      const other = await driver.open(logContainerId(2), {});
      await writeEntries(other, sampleEntries(2));
      await other.close();
      assert.deepEqual([...(await driver.held())].sort(), [id, logContainerId(2)].sort(), 'held() lists the containers with logs');
      await driver.remove(id);
      await driver.remove(logContainerId(2));
      assert.deepEqual(await driver.held(), [], 'held() no longer lists them');
      assert.deepEqual(await readdir(fx.stateDir).catch(() => []), []);
      if (options.readable !== false) assert.deepEqual(await collectLog(driver.read(id, {})), []);
      await driver.remove(logContainerId(3)); // never existed: no error
      await writer.close().catch(() => undefined);
    });
  });
}

/**
 * For a driver's own tests: a scratch folder for the file (removed after it) and `startDriver`,
 * which initialises a new driver on a fresh (or given) state dir and collects its warnings.
 */
export function logDriverFixture<D extends LogDriver>(prefix: string, make: () => D): (stateDir?: string) => Promise<{ driver: D; stateDir: string; warnings: string[] }> {
  let scratch = '';
  let counter = 0;
  const drivers: D[] = [];
  before(async () => {
    scratch = await mkdtemp(join(process.env.TINY_DOCKER_TEST_SCRATCH ?? tmpdir(), `${prefix}-`));
  });
  after(async () => {
    await Promise.all(drivers.map((d) => d.close?.()));
    await rm(scratch, { recursive: true, force: true });
  });
  return async (stateDir) => {
    const dir = stateDir ?? join(scratch, `state-${++counter}`);
    await mkdir(dir, { recursive: true });
    const warnings: string[] = [];
    const context: DriverContext = {
      dataRoot: scratch, execRoot: scratch, stateDir: dir, runDir: dir,
      logger: { info: () => undefined, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
    };
    const driver = make();
    await driver.init(context);
    drivers.push(driver);
    return { driver, stateDir: dir, warnings };
  };
}
