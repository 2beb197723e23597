import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { Container } from 'inversify';
import { Driver, LogReadNotSupportedError, type LogDriver } from '../../core/plugins/driver.js';
import { loadDrivers } from '../../core/plugins/plugin-loader.js';
import { missingKindMethods } from '../../core/plugins/plugin-registry.js';
import logNoneModule from '../../plugins/log-none/log-none-module.js';
import { NoneLogDriver } from '../../plugins/log-none/none-log-driver.js';

const id = 'a'.repeat(64);

describe('unit: none log driver', () => {
  it('accepts writes and drops them, holds nothing, and refuses to be read before any iteration', async () => {
    const driver = new NoneLogDriver();
    assert.equal(driver.id, 'log.v1.none');
    assert.equal(driver.name, 'none');
    assert.equal(missingKindMethods(driver), '');
    assert.deepEqual(await driver.init(), { status: 'ok' });
    const writer = await driver.open(id, {});
    await writer.write({ stream: 'stdout', time: '2026-01-01T00:00:00Z', data: Buffer.from('x') }, 1);
    assert.equal(writer.storedOffset, 1, 'the shim is acknowledged, so it never holds output back');
    await writer.close();
    assert.throws(() => driver.read(id, {}), (err: unknown) => err instanceof LogReadNotSupportedError && err.message === 'configured logging driver does not support reading');
    assert.throws(() => driver.validateOptions({ 'max-size': '1m' }), /max-size/);
    assert.deepEqual(await driver.held(), []);
    await driver.remove(id);
  });

  it('is a plugin package of its own, loaded like any other', async () => {
    const container = new Container();
    await container.load(logNoneModule);
    assert.deepEqual(container.getAll<LogDriver>(Driver).map((d) => d.id), ['log.v1.none']);
    const modulePath = fileURLToPath(new URL('../../plugins/log-none/log-none-module.js', import.meta.url));
    const { drivers, failures } = await loadDrivers([{ name: '@tiny-docker/log-none', root: '.', modulePath, source: 'builtin' }], new Container());
    assert.deepEqual(failures, []);
    assert.deepEqual(drivers.map((d) => d.driver.id), ['log.v1.none']);
    const pkg = JSON.parse(await readFile(new URL('../../../plugins/log-none/package.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    assert.equal(pkg.name, '@tiny-docker/log-none');
    assert.deepEqual(pkg.tinyDocker, { module: './log-none-module.js' });
    const root = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { tinyDocker: { plugins: string[] } };
    assert.ok(root.tinyDocker.plugins.includes('./dist/plugins/log-none'), 'a built-in');
  });
});
