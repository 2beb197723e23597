import 'reflect-metadata';
import assert from 'node:assert/strict';
import { appendFile, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Container } from 'inversify';
import { Driver, type LogDriver } from '../../core/plugins/driver.js';
import { loadDrivers } from '../../core/plugins/plugin-loader.js';
import logTextFileModule from '../../plugins/log-text-file/log-text-file-module.js';
import { TextFileLogDriver } from '../../plugins/log-text-file/text-file-log-driver.js';
import { decodeTextLogLine, encodeTextLogLine } from '../../plugins/log-text-file/text-log-line.js';
import { collectLog, logContainerId, logDriverConformance, logDriverFixture, logTime, sampleEntries, writeEntries } from '../log-conformance.js';

logDriverConformance('text-file', () => new TextFileLogDriver(), { rotates: false });

const startDriver = logDriverFixture('log-text-file', () => new TextFileLogDriver());

const id = logContainerId(0xdef);

describe('text-file log driver', () => {
  it('writes "<time> <stream> <offset> <text>" lines in <stateDir>/<id>.log', async () => {
    const { driver, stateDir } = await startDriver();
    const writer = await driver.open(id, {});
    await writer.write({ stream: 'stdout', time: '2026-01-02T03:04:05.1Z', data: Buffer.from('hello\tworld\n') }, 12);
    await writer.write({ stream: 'stderr', time: '2026-01-02T03:04:06Z', data: Buffer.from('back\\slash, \x1b[1mbold\r\n') }, 34);
    await writer.write({ stream: 'stdout', time: '2026-01-02T03:04:07Z', data: Buffer.from([0x61, 0xff, 0x0a]) }, 37);
    assert.equal(
      await readFile(join(stateDir, `${id}.log`), 'utf8'),
      '2026-01-02T03:04:05.1Z stdout 12 hello\tworld\\n\n' +
        '2026-01-02T03:04:06Z stderr 34 back\\\\slash, \\x1b[1mbold\\r\\n\n' +
        '2026-01-02T03:04:07Z stdout 37 a\\xff\\n\n',
    );
    await writer.close();
  });

  it('encodes and decodes any bytes exactly', () => {
    const samples = [Buffer.from('plain'), Buffer.from('é€😀 \u0085 \u2028'), Buffer.from('\\x41 is not A'), Buffer.from([0xc3]), Buffer.alloc(0)];
    for (let i = 0; i < 200; i++) samples.push(Buffer.from(Array.from({ length: i }, (_, k) => (k * 37 + i * 11) % 256)));
    for (const [i, data] of samples.entries()) {
      const line = encodeTextLogLine({ stream: 'stderr', time: logTime(i), data }, i);
      assert.equal(line.indexOf(0x0a), line.length - 1, 'one line');
      const decoded = decodeTextLogLine(line.subarray(0, -1).toString('utf8'));
      assert.equal(decoded?.entry.data.toString('hex'), data.toString('hex'));
      assert.equal(decoded?.entry.stream, 'stderr');
      assert.equal(decoded?.offset, i);
    }
    assert.equal(decodeTextLogLine('2026-01-02T03:04:05Z stdout'), undefined);
    assert.equal(decodeTextLogLine('2026-01-02T03:04:05Z stdin 3 x'), undefined);
  });

  it('cuts a line torn by a crash on open and recovers the offset of the last whole line', async () => {
    const { driver, stateDir } = await startDriver();
    const writer = await driver.open(id, {});
    const end = await writeEntries(writer, sampleEntries(4));
    await writer.close();
    const file = join(stateDir, `${id}.log`);
    const whole = (await stat(file)).size;
    await appendFile(file, '2026-01-02T03:04:05Z stdout 999 torn');
    const { driver: restarted, warnings } = await startDriver(stateDir);
    const reopened = await restarted.open(id, {});
    assert.equal(reopened.storedOffset, end);
    assert.equal((await stat(file)).size, whole);
    assert.match(warnings.join('\n'), /torn/);
    assert.equal((await collectLog(restarted.read(id, {}))).length, 4);
    await reopened.close();
  });
});

describe('log-text-file plugin package', () => {
  it('binds the driver under Driver in its ContainerModule', async () => {
    const container = new Container();
    await container.load(logTextFileModule);
    assert.deepEqual(container.getAll<LogDriver>(Driver).map((d) => d.id), ['log.v1.text-file']);
  });

  it('loads through the daemon\'s plugin loader', async () => {
    const modulePath = fileURLToPath(new URL('../../plugins/log-text-file/log-text-file-module.js', import.meta.url));
    const { drivers, failures } = await loadDrivers([{ name: '@tiny-docker/log-text-file', root: '.', modulePath, source: 'builtin' }], new Container());
    assert.deepEqual(failures, []);
    assert.deepEqual(drivers.map((d) => d.driver.id).sort(), ['log.v1.text-file']);
  });

  it('names its module in package.json', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../../plugins/log-text-file/package.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    assert.equal(pkg.name, '@tiny-docker/log-text-file');
    assert.deepEqual(pkg.tinyDocker, { module: './log-text-file-module.js' });
  });
});
