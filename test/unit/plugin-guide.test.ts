import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { kitPackageJson, KIT_SUITES } from '../../cli/lib/plugin-kit.js';
import { pluginFiles } from '../../cli/lib/plugin-template.js';
import { guideFiles, readGuide } from '../fixtures/guide-snippets.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const engine = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string> };

describe('unit: the plugin guide and plugins new', () => {
  it('docs/writing-a-driver.md shows exactly the files `plugins new acme-lines` writes', () => {
    const shown = guideFiles(readGuide(REPO));
    const written = pluginFiles('acme-lines', `tiny-docker-${engine.version}.tgz`);
    assert.deepEqual([...shown.keys()].sort(), Object.keys(written).map((f) => `acme-lines/${f}`).sort());
    for (const [file, text] of Object.entries(written)) assert.equal(shown.get(`acme-lines/${file}`), text, `acme-lines/${file} differs between the guide and plugins new`);
  });

  it('a new plugin declares what it imports, takes tiny-docker as an optional peer and the kit as a dev dependency', () => {
    const pkg = JSON.parse(pluginFiles('x-y', 'tiny-docker-9.9.9.tgz')['package.json']!) as Record<string, Record<string, unknown>>;
    assert.deepEqual(pkg.peerDependenciesMeta, { 'tiny-docker': { optional: true } });
    assert.deepEqual(pkg.devDependencies, { 'tiny-docker': 'file:./tiny-docker-9.9.9.tgz' });
    assert.equal(pkg.dependencies!['@oclif/core'], engine.dependencies['@oclif/core']);
    assert.deepEqual(pkg.tinyDocker, { module: './plugin-module.js' });
  });

  it('the kit is the package tiny-docker with the plugin API, the events and every conformance suite, and the runtime dependencies but the CLI\'s', () => {
    const kit = kitPackageJson(engine) as { name: string; exports: Record<string, unknown>; dependencies: Record<string, string> };
    assert.equal(kit.name, 'tiny-docker');
    assert.deepEqual(Object.keys(kit.exports).sort(), ['./events', './plugin-api', ...KIT_SUITES.map((k) => `./testing/${k}`)].sort());
    assert.equal(kit.dependencies.inversify, engine.dependencies.inversify);
    assert.ok(!Object.keys(kit.dependencies).some((d) => d.startsWith('@oclif/')));
  });
});
