import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { settledWithin } from '../../core/api/container-stream-routes.js';
import type { Driver, DriverContext } from '../../core/plugins/driver.js';
import { DriverUnavailableError, PluginGraphError, PluginRegistry } from '../../core/plugins/plugin-registry.js';
import { statusOf } from '../../core/api/api-server.js';
import { checkLocalPlugin, describeDaemonDrivers, describeReload, localInstallSource } from '../../cli/lib/plugin-reload.js';
import { completeDriver } from '../fixtures/complete-driver.js';

const context = async (): Promise<DriverContext> => ({
  dataRoot: '/x', execRoot: '/y', stateDir: '/x/s', runDir: '/y/r',
  logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
});
const ok = (id: string, packageName = `pkg-${id}`): { driver: Driver; packageName: string } => ({ driver: completeDriver({ id, init: async () => ({ status: 'ok' }) }), packageName });

describe('unit: installing and reloading plugins', () => {
  const dir = mkdtempSync(join(process.env.TINY_DOCKER_TEST_SCRATCH ?? tmpdir(), 'plugin-install-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a folder or tarball on disk is installed from there (file:), an npm name or URL is left to oclif', () => {
    writeFileSync(join(dir, 'p-0.1.0.tgz'), '');
    assert.equal(localInstallSource('./p-0.1.0.tgz', dir), `file:${join(dir, 'p-0.1.0.tgz')}`);
    assert.equal(localInstallSource('p-0.1.0.tgz', dir), `file:${join(dir, 'p-0.1.0.tgz')}`);
    assert.equal(localInstallSource(join(dir, 'p-0.1.0.tgz'), '/'), `file:${join(dir, 'p-0.1.0.tgz')}`);
    assert.equal(localInstallSource(dir, '/'), `file:${dir}`);
    assert.equal(localInstallSource('~', '/'), `file:${homedir()}`);
    assert.equal(localInstallSource('@acme/tiny-docker-log-shipper', dir), undefined);
    assert.equal(localInstallSource('some-plugin', dir), undefined);
    assert.equal(localInstallSource('file:/x/y.tgz', dir), undefined);
    assert.equal(localInstallSource('https://example.invalid/p.tgz', dir), undefined);
    assert.throws(() => localInstallSource('./missing.tgz', dir), /^Error: no such plugin folder or tarball: \.\/missing\.tgz$/);
    assert.throws(() => localInstallSource('/nowhere/p', dir), /no such plugin folder or tarball: \/nowhere\/p/);
  });

  it('a local package is checked before anything is installed: a package.json with a name and an oclif section', () => {
    const pkg = join(dir, 'pkg');
    mkdirSync(pkg);
    assert.throws(() => checkLocalPlugin(pkg), /has no package\.json: a plugin is an npm package/);
    writeFileSync(join(pkg, 'package.json'), '{');
    assert.throws(() => checkLocalPlugin(pkg), /is not valid JSON/);
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'acme' }));
    assert.throws(() => checkLocalPlugin(pkg), /^Error: acme is not an oclif plugin: its package\.json needs an "oclif" section/);
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'acme', oclif: {} }));
    assert.equal(checkLocalPlugin(pkg), 'acme');
  });

  it('a reload initialises only the new drivers, after those known, and refuses a second driver of a taken id', async () => {
    const registry = new PluginRegistry();
    await registry.initialise([ok('storage.v1.overlayfs'), ok('log.v1.json-file')], context);
    const added = await registry.initialise([{ driver: completeDriver({ id: 'log.v1.shipper', requires: ['storage.v1'], init: async () => ({ status: 'ok' }) }), packageName: 'shipper' }], context);
    assert.deepEqual(added.map((r) => [r.driver.id, r.status]), [['log.v1.shipper', 'ok']]);
    assert.deepEqual(registry.all().map((r) => r.driver.id), ['log.v1.json-file', 'storage.v1.overlayfs', 'log.v1.shipper']);
    await assert.rejects(registry.initialise([ok('log.v1.shipper', 'other')], context), (err: unknown) =>
      err instanceof PluginGraphError && /log\.v1\.shipper is registered twice \(by shipper and other\)/.test(err.message));
  });

  it('a package that failed to load is listed with its reason and named where a driver of a kind is missing', async () => {
    const registry = new PluginRegistry();
    await registry.initialise([{ driver: completeDriver({ id: 'log.v1.json-file', init: async () => { throw new Error('disk on fire'); } }), packageName: 'json' }], context);
    registry.recordLoadFailures([{ packageName: 'acme-shipper', reason: "Cannot find package 'left-pad'" }]);
    assert.deepEqual(registry.listing(), [
      { id: 'log.v1.json-file', package: 'json', status: 'error', reason: 'disk on fire' },
      { id: '(package)', package: 'acme-shipper', status: 'error', reason: "failed to load: Cannot find package 'left-pad'" },
    ]);
    assert.equal(registry.whyMissing('log.v1'), "log.v1.json-file error (disk on fire); plugin package acme-shipper failed to load (Cannot find package 'left-pad')");
    assert.equal(new PluginRegistry().whyMissing('network.v1'), 'no network.v1 driver is installed');
    const missing = (() => { try { registry.require('log.v1'); } catch (err) { return err; } return undefined; })();
    assert.ok(missing instanceof DriverUnavailableError);
    assert.equal(missing.message, `no log.v1 driver is available: ${registry.whyMissing('log.v1')}`);
    assert.equal(statusOf(missing), 409, 'the API answers a missing driver with a conflict');
    registry.clearLoadFailure('acme-shipper');
    assert.equal(registry.listing().length, 1);
  });

  it('plugins adds what the running daemon made of the third-party packages, failures with why', () => {
    assert.deepEqual(describeDaemonDrivers(undefined), ['', 'no daemon is running: it loads the installed plugins when it starts']);
    assert.deepEqual(describeDaemonDrivers([{ id: 'log.v1.json-file', package: '@tiny-docker/log-json-file', status: 'ok' }]), []);
    assert.deepEqual(describeDaemonDrivers([
      { id: 'log.v1.acme', package: 'acme', status: 'ok' },
      { id: '(package)', package: 'broken', status: 'error', reason: 'failed to load: boom' },
    ]), ['', 'In the running daemon:', '  acme: log.v1.acme ok', '  broken: the package error (failed to load: boom)']);
  });

  it('describes what the daemon took up after an install', () => {
    assert.deepEqual(describeReload(undefined), ['no daemon is running: it loads the installed plugins when it starts']);
    assert.deepEqual(describeReload({ loaded: ['acme'], failed: [{ package: 'bad', reason: 'boom' }], plugins: [{ id: 'log.v1.acme', package: 'acme', status: 'ok' }] }),
      ['the daemon loaded acme: log.v1.acme ok', 'the daemon could not load bad: boom']);
    assert.deepEqual(describeReload({ loaded: [], failed: [], plugins: [] }), ['the daemon found no new plugin package (a changed package needs a daemon restart)']);
  });

  it('settledWithin: a refusal that comes at once is seen before the headers; a slow first entry is not waited for', async () => {
    const refused = await settledWithin(Promise.reject(new Error('configured logging driver does not support reading')), 100);
    assert.equal(refused.state, 'rejected');
    const quick = await settledWithin(Promise.resolve(7), 100);
    assert.deepEqual(quick, { state: 'fulfilled', value: 7 });
    let release!: (n: number) => void;
    const slow = await settledWithin(new Promise<number>((r) => { release = r; }), 10);
    assert.equal(slow.state, 'pending');
    release(3);
    if (slow.state === 'pending') assert.equal(await slow.promise, 3);
  });
});
