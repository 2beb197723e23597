import 'reflect-metadata';
import assert from 'node:assert/strict';
import { appendFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Container } from 'inversify';
import { Driver, type LogDriver } from '../../core/plugins/driver.js';
import { loadDrivers } from '../../core/plugins/plugin-loader.js';
import { JsonFileLogDriver } from '../../plugins/log-json-file/json-file-log-driver.js';
import { parseJsonFileOptions } from '../../plugins/log-json-file/json-file-options.js';
import { decodeJsonLogLine, encodeJsonLogLine } from '../../plugins/log-json-file/json-log-line.js';
import logJsonFileModule from '../../plugins/log-json-file/log-json-file-module.js';
import { parseLogTime } from '../../core/plugins/log-support.js';
import { collectLog, logContainerId, logDriverConformance, logDriverFixture, logTime, sampleEntries, writeEntries } from '../log-conformance.js';

logDriverConformance('json-file', () => new JsonFileLogDriver(), { rotates: true });

const startDriver = logDriverFixture('log-json-file', () => new JsonFileLogDriver());

const id = logContainerId(0xabc);

describe('json-file log driver', () => {
  it('writes Docker\'s json-file lines with the offset, in <stateDir>/<id>/<id>-json.log', async () => {
    const { driver, stateDir } = await startDriver();
    const writer = await driver.open(id, {});
    await writer.write({ stream: 'stdout', time: '2026-01-02T03:04:05.123456789Z', data: Buffer.from('hello\n') }, 6);
    await writer.write({ stream: 'stderr', time: '2026-01-02T03:04:06Z', data: Buffer.from([0xff, 0x0a]) }, 8);
    const lines = (await readFile(join(stateDir, id, `${id}-json.log`), 'utf8')).split('\n');
    assert.equal(lines[0], '{"log":"hello\\n","stream":"stdout","time":"2026-01-02T03:04:05.123456789Z","offset":6}');
    assert.deepEqual(JSON.parse(lines[1]!), { log: '\ufffd\n', log_base64: '/wo=', stream: 'stderr', time: '2026-01-02T03:04:06Z', offset: 8 });
    assert.equal(lines[2], '');
    await writer.close();
  });

  it('encodes and decodes any bytes exactly', () => {
    for (let i = 0; i < 200; i++) {
      const data = Buffer.from(Array.from({ length: i }, (_, k) => (k * 37 + i * 11) % 256));
      const line = encodeJsonLogLine({ stream: 'stdout', time: logTime(i), data }, i);
      assert.equal(line.indexOf(0x0a), line.length - 1, 'one line');
      const decoded = decodeJsonLogLine(line.subarray(0, -1));
      assert.equal(decoded?.entry.data.toString('hex'), data.toString('hex'));
      assert.equal(decoded?.offset, i);
    }
    assert.equal(decodeJsonLogLine(Buffer.from('{"log":"x","stream":"stdout","time":"t"')), undefined);
    assert.equal(decodeJsonLogLine(Buffer.from('{"log":"x","stream":"other","time":"t","offset":1}')), undefined);
  });

  it('cuts a line torn by a crash on open and recovers the offset of the last whole line', async () => {
    const { driver, stateDir } = await startDriver();
    const writer = await driver.open(id, {});
    const end = await writeEntries(writer, sampleEntries(5));
    await writer.close();
    const file = join(stateDir, id, `${id}-json.log`);
    const whole = (await stat(file)).size;
    await appendFile(file, '{"log":"torn in the midd');
    const { driver: restarted, warnings } = await startDriver(stateDir);
    const reopened = await restarted.open(id, {});
    assert.equal(reopened.storedOffset, end);
    assert.equal((await stat(file)).size, whole);
    assert.match(warnings.join('\n'), /torn/);
    await writeEntries(reopened, sampleEntries(1, 5));
    assert.deepEqual((await collectLog(restarted.read(id, {}))).map((e) => e.data.toString()), sampleEntries(6).map((e) => e.data.toString()));
    await reopened.close();
  });

  it('rotates into .1 and .2 with max-file=3 and reads across them in order', async () => {
    const { driver, stateDir } = await startDriver();
    const writer = await driver.open(id, { 'max-size': '1k', 'max-file': '3' });
    const entries = sampleEntries(400);
    await writeEntries(writer, entries);
    assert.deepEqual((await readdir(join(stateDir, id))).sort(), [`${id}-json.log`, `${id}-json.log.1`, `${id}-json.log.2`]);
    const read = await collectLog(driver.read(id, {}));
    assert.deepEqual(read.map((e) => e.data.toString()), entries.slice(-read.length).map((e) => e.data.toString()));
    for (const tail of [1, 10, 25, read.length, read.length + 5]) {
      const got = await collectLog(driver.read(id, { tail }));
      assert.deepEqual(got.map((e) => e.data.toString()), read.slice(-tail).map((e) => e.data.toString()), `tail ${tail}`);
    }
    await writer.close();
  });

  it('keeps one file with max-file=1 (the log restarts when full), and drops old files when max-file shrinks', async () => {
    const { driver, stateDir } = await startDriver();
    let writer = await driver.open(id, { 'max-size': '1k', 'max-file': '4' });
    let offset = await writeEntries(writer, sampleEntries(200));
    await writer.close();
    assert.equal((await readdir(join(stateDir, id))).length, 4);
    writer = await driver.open(id, { 'max-size': '1k', 'max-file': '2' });
    offset = await writeEntries(writer, sampleEntries(100, 200), offset);
    assert.equal((await readdir(join(stateDir, id))).length, 2);
    await writer.close();
    writer = await driver.open(id, { 'max-size': '1k' });
    await writeEntries(writer, sampleEntries(100, 300), offset);
    assert.deepEqual(await readdir(join(stateDir, id)), [`${id}-json.log`]);
    assert.ok((await stat(join(stateDir, id, `${id}-json.log`))).size <= 1024);
    const read = await collectLog(driver.read(id, {}));
    assert.equal(read.at(-1)?.data.toString(), 'line 399\n');
    await writer.close();
  });

  it('keeps an entry larger than max-size whole, alone in its file', async () => {
    const { driver, stateDir } = await startDriver();
    const writer = await driver.open(id, { 'max-size': '1k', 'max-file': '2' });
    const big = { stream: 'stdout' as const, time: logTime(0), data: Buffer.alloc(3000, 'b') };
    await writeEntries(writer, [...sampleEntries(3), big, ...sampleEntries(2, 3)]);
    const sizes = await Promise.all((await readdir(join(stateDir, id))).map(async (n) => (await stat(join(stateDir, id, n))).size));
    assert.ok(sizes.every((s) => s <= 1024 || s < 3200), `sizes ${sizes.join(', ')}`);
    const read = await collectLog(driver.read(id, {}));
    assert.equal(read[0]?.data.length, 3000);
    assert.equal(read.length, 3);
    await writer.close();
  });

  it('with max-size, a chunk larger than max-size is stored as several lines cut after newlines, so every file stays within max-size', async () => {
    const { driver, stateDir } = await startDriver();
    const writer = await driver.open(id, { 'max-size': '1k', 'max-file': '2' });
    const lines = Array.from({ length: 2000 }, (_, i) => `line ${i + 1}\n`);
    const data = Buffer.from(lines.join(''));
    // 16 KiB chunks, as the shim reads them, cut anywhere (also inside a line)
    const chunks = [];
    for (let at = 0; at < data.length; at += 16384) chunks.push({ stream: 'stdout' as const, time: logTime(at / 1e6), data: data.subarray(at, at + 16384) });
    const end = await writeEntries(writer, chunks);
    assert.equal(writer.storedOffset, end);
    const files = await readdir(join(stateDir, id));
    assert.equal(files.length, 2);
    for (const name of files) assert.ok((await stat(join(stateDir, id, name))).size <= 1024, `${name} within 1k`);
    const read = Buffer.concat((await collectLog(driver.read(id, {}))).map((e) => e.data)).toString();
    assert.ok(data.toString().endsWith(read), 'the newest output, contiguous');
    assert.match(read, /line 2000\n$/);
    const tail = (await collectLog(driver.read(id, { tail: 3 }))).map((e) => e.data.toString()).join('');
    assert.equal(tail, 'line 1998\nline 1999\nline 2000\n');
    // every stored line records the offset it ends at, so dedup still works piece by piece
    const stored = (await readFile(join(stateDir, id, `${id}-json.log`), 'utf8')).trim().split('\n').map((l) => decodeJsonLogLine(Buffer.from(l))!);
    for (let i = 1; i < stored.length; i++) assert.equal(stored[i]!.offset, stored[i - 1]!.offset + stored[i]!.entry.data.length);
    await writer.close();
  });

  it('a chunk stored in part (the daemon killed between its pieces) stores only the rest when it comes again', async () => {
    const { driver, stateDir } = await startDriver();
    const writer = await driver.open(id, {});
    await writeEntries(writer, [{ stream: 'stdout', time: logTime(0), data: Buffer.from('one\ntwo\n') }]);
    // resent from offset 4: "two\nthree\n" ends at 14, of which "two\n" (up to 8) is stored
    await writer.write({ stream: 'stdout', time: logTime(1), data: Buffer.from('two\nthree\n') }, 14);
    assert.equal(writer.storedOffset, 14);
    const read = (await collectLog(driver.read(id, {}))).map((e) => e.data.toString()).join('');
    assert.equal(read, 'one\ntwo\nthree\n');
    assert.ok(stateDir);
    await writer.close();
  });

  it('tail of a big log reads from the end: the last lines of 200,000 come back quickly', { timeout: 60_000 }, async () => {
    const { driver, stateDir } = await startDriver();
    const dir = join(stateDir, id);
    await mkdir(dir, { recursive: true });
    const lines: string[] = [];
    let offset = 0;
    for (let i = 0; i < 200_000; i++) {
      const data = Buffer.from(`line ${i}\n`);
      offset += data.length;
      lines.push(encodeJsonLogLine({ stream: 'stdout', time: logTime(i / 1000), data }, offset).toString());
    }
    await writeFile(join(dir, `${id}-json.log`), lines.join(''));
    const started = process.hrtime.bigint();
    const got = await collectLog(driver.read(id, { tail: 3 }));
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    assert.deepEqual(got.map((e) => e.data.toString()), ['line 199997\n', 'line 199998\n', 'line 199999\n']);
    assert.ok(ms < 1000, `tail 3 took ${ms} ms`); // a generous bound: reading all 200,000 lines is what it guards against
  });

  it('a follower that falls far behind catches up from the files without losing or repeating entries', { timeout: 60_000 }, async () => {
    const { driver } = await startDriver();
    const writer = await driver.open(id, {});
    const abort = new AbortController();
    const iterator = driver.read(id, { follow: true, signal: abort.signal })[Symbol.asyncIterator]();
    await writeEntries(writer, sampleEntries(1));
    const first = await iterator.next();
    assert.equal(first.done, false);
    // While the reader is not reading, more is written than its queue holds.
    await writeEntries(writer, sampleEntries(12_000, 1));
    abort.abort();
    const seen = [first.value!.data.toString()];
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) seen.push(r.value.data.toString());
    assert.equal(seen.length, 12_001);
    assert.deepEqual(seen, sampleEntries(12_001).map((e) => e.data.toString()));
    await writer.close();
  });

  it('follow with until ends when an entry after until arrives', { timeout: 10_000 }, async () => {
    const { driver } = await startDriver();
    const writer = await driver.open(id, {});
    const reader = collectLog(driver.read(id, { follow: true, until: logTime(10) }));
    await writeEntries(writer, [
      { stream: 'stdout', time: logTime(9), data: Buffer.from('in\n') },
      { stream: 'stdout', time: logTime(11), data: Buffer.from('out\n') },
    ]);
    assert.deepEqual((await reader).map((e) => e.data.toString()), ['in\n']);
    await writer.close();
  });

  it('refuses a container id that is not a plain name', async () => {
    const { driver } = await startDriver();
    await assert.rejects(driver.open('../escape', {}), /invalid container id/);
    assert.throws(() => driver.read('a/b', {}), /invalid container id/);
  });

  it('parses --log-opt like Docker', () => {
    assert.deepEqual(parseJsonFileOptions({}), { maxSize: 0, maxFile: 1 });
    assert.deepEqual(parseJsonFileOptions({ 'max-size': '10m', 'max-file': '3' }), { maxSize: 10 * 1024 * 1024, maxFile: 3 });
    assert.equal(parseJsonFileOptions({ 'max-size': '1k' }).maxSize, 1024);
    assert.equal(parseJsonFileOptions({ 'max-size': '1.5K' }).maxSize, 1536);
    assert.equal(parseJsonFileOptions({ 'max-size': '2g' }).maxSize, 2 * 1024 ** 3);
    assert.equal(parseJsonFileOptions({ 'max-size': '100mb' }).maxSize, 100 * 1024 ** 2);
    assert.equal(parseJsonFileOptions({ 'max-size': '-1' }).maxSize, 0);
    assert.throws(() => parseJsonFileOptions({ compress: 'true' }), /^Error: unknown log-opt "compress" for log driver json-file/);
    assert.throws(() => parseJsonFileOptions({ 'max-size': '10t' }), /max-size "10t"/);
    assert.throws(() => parseJsonFileOptions({ 'max-file': '1.5' }), /max-file "1.5"/);
  });

  it('parses RFC 3339 times of any precision and offset, and Unix seconds', () => {
    assert.equal(parseLogTime('1970-01-01T00:00:01Z'), 1_000_000_000n);
    assert.equal(parseLogTime('1970-01-01T00:00:00.000000001Z'), 1n);
    assert.equal(parseLogTime('1970-01-01T01:00:00.5+01:00'), 500_000_000n);
    assert.equal(parseLogTime('1.25'), 1_250_000_000n);
    assert.ok(parseLogTime('2026-01-02T03:04:05.1Z') > parseLogTime('2026-01-02T03:04:05.05Z'));
    assert.throws(() => parseLogTime('2026-01-02'), /invalid time/);
  });
});

describe('log-json-file plugin package', () => {
  it('binds the json-file driver under Driver in its ContainerModule, as a singleton', async () => {
    const container = new Container();
    await container.load(logJsonFileModule);
    const bound = container.getAll<LogDriver>(Driver);
    assert.deepEqual(bound.map((d) => d.id), ['log.v1.json-file']);
    assert.equal(container.getAll<LogDriver>(Driver)[0], bound[0]);
  });

  it('loads through the daemon\'s plugin loader', async () => {
    const modulePath = fileURLToPath(new URL('../../plugins/log-json-file/log-json-file-module.js', import.meta.url));
    const { drivers, failures } = await loadDrivers([{ name: '@tiny-docker/log-json-file', root: '.', modulePath, source: 'builtin' }], new Container());
    assert.deepEqual(failures, []);
    assert.deepEqual(drivers.map((d) => d.driver.id), ['log.v1.json-file']);
  });

  it('names its module in package.json', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../../plugins/log-json-file/package.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    assert.equal(pkg.name, '@tiny-docker/log-json-file');
    assert.deepEqual(pkg.tinyDocker, { module: './log-json-file-module.js' });
    assert.deepEqual(pkg.peerDependencies, { 'tiny-docker': '*' });
  });
});
