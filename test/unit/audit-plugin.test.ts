import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { Container, ContainerModule } from 'inversify';
import { Driver } from '../../core/plugins/driver.js';
import { registerSelfResolve } from '../../core/plugins/plugin-loader.js';
import { reactorConformance } from '../reactor-conformance.js';
import { REPO_ROOT } from '../e2e/harness.js';

/** The example third-party plugin, loaded as the daemon loads it (through its package.json). */
async function loadAuditDriver(): Promise<Driver> {
  registerSelfResolve();
  const root = join(REPO_ROOT, 'examples', 'audit-plugin');
  const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { tinyDocker: { module: string } };
  const mod = (await import(pathToFileURL(join(root, pjson.tinyDocker.module)).href)) as { default: unknown };
  assert.ok(mod.default instanceof ContainerModule, 'default export is the engine\'s own ContainerModule class');
  const container = new Container();
  await container.load(mod.default);
  return container.get<Driver>(Driver);
}

describe('unit: the example audit plugin', () => {
  it('loads through tiny-docker/plugin-api and shares the engine\'s inversify', async () => {
    const d = await loadAuditDriver();
    assert.equal(d.id, 'reactor.v1.audit');
  });
});

reactorConformance('examples/audit-plugin', loadAuditDriver);
