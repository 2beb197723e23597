import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { guideFiles, readGuide } from '../fixtures/guide-snippets.js';
import { CLI, REPO_ROOT, TestDaemon, runCommand, until } from './harness.js';

/** npm in a plugin's folder: quiet, from the cache first (the kit's dependencies are the engine's own). */
function npm(args: readonly string[], cwd: string): ReturnType<typeof runCommand> {
  const env: NodeJS.ProcessEnv = { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', npm_config_prefer_offline: 'true' };
  delete env.NODE_TEST_CONTEXT; // the plugin's `node --test` is a runner of its own, not a child of ours
  return runCommand('sh', ['-c', `cd "${cwd}" && npm ${args.join(' ')}`], { timeoutMs: 300_000, env });
}

/**
 * An outside author's whole path, from docs/writing-a-driver.md alone: the guide's files copied
 * into a folder outside this repository, the kit from `plugins kit`, the plugin's own npm install
 * and tests (the kit's conformance suites), npm pack, `plugins install` of the tarball into a
 * running daemon, and the plugin seen acting; then a broken package, reported with its reason.
 */
describe('e2e: a plugin written from the guide, outside the tree, installed from a tarball', { timeout: 600_000 }, () => {
  const d = new TestDaemon('plugin-guide');
  const work = join(d.root, 'author');
  const plugin = join(work, 'acme-lines');
  let tarball = '';

  before(async () => {
    for (const [file, text] of guideFiles(readGuide(REPO_ROOT))) {
      mkdirSync(dirname(join(work, file)), { recursive: true });
      writeFileSync(join(work, file), text);
    }
    await d.start();
  });
  after(() => d.cleanup());

  it('builds: the kit, npm install, the plugin\'s own tests (the kit\'s conformance suites), npm pack', async () => {
    assert.ok(!plugin.startsWith(REPO_ROOT), 'the plugin lives outside the repository');
    const kit = await runCommand(CLI, ['plugins', 'kit', '--out', plugin], { env: d.env });
    assert.equal(kit.code, 0, kit.stderr);
    const pkg = JSON.parse(readFileSync(join(plugin, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    assert.equal(`file:./${kit.stdout.trim().split('/').pop()}`, pkg.devDependencies['tiny-docker'], 'the guide names the kit plugins kit writes');
    const install = await npm(['install'], plugin);
    assert.equal(install.code, 0, install.stderr);
    const test = await npm(['test'], plugin);
    assert.equal(test.code, 0, `${test.stdout}\n${test.stderr}`);
    assert.match(test.stdout, /# pass \d+\n# fail 0/);
    const pack = await npm(['pack', '--silent'], plugin);
    assert.equal(pack.code, 0, pack.stderr);
    tarball = join(plugin, pack.stdout.trim().split('\n').pop()!);
    assert.ok(existsSync(tarball));
  });

  it('installs from the tarball into the running daemon, which loads it at once', async () => {
    const r = await d.cli(['plugins', 'install', tarball], { timeoutMs: 300_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /the daemon loaded acme-lines: log\.v1\.acme-lines ok, reactor\.v1\.acme-lines-deaths ok/);
    assert.doesNotMatch(r.stderr, /prepare script|linked ESM/);
    const info = JSON.parse((await d.cli(['info', '--json'])).stdout) as { TinyPlugins: { id: string; package: string; status: string }[] };
    assert.deepEqual(info.TinyPlugins.filter((p) => p.package === 'acme-lines').map((p) => [p.id, p.status]).sort(),
      [['log.v1.acme-lines', 'ok'], ['reactor.v1.acme-lines-deaths', 'ok']]);
  });

  it('acts: the log driver writes the lines, logs is a clear error, the reactor records the death with the name, the command prints it', async () => {
    const run = await d.cli(['run', '--name', 'guide-job', '--log-driver', 'acme-lines', 'busybox', 'sh', '-c', 'echo hello; echo world >&2; exit 3']);
    assert.equal(run.code, 3, run.stderr);
    const id = (await d.cli(['inspect', '-f', '{{.Id}}', 'guide-job'])).stdout.trim();
    const file = join(d.dataRoot, 'log.v1.acme-lines', `${id}.log`);
    const lines = await until('the log driver to write both lines', () => {
      const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
      return /stdout hello\n/.test(text) && /stderr world\n/.test(text) ? text : undefined;
    });
    assert.match(lines, /^\d{4}-\d\d-\d\dT\S+Z (stdout hello|stderr world)\n/);
    const logs = await d.cli(['logs', 'guide-job']);
    assert.equal(logs.code, 1);
    assert.equal(logs.stdout, '');
    assert.equal(logs.stderr, 'Error response from daemon: configured logging driver does not support reading\n');
    const deaths = await until('the reactor to record the death', async () => {
      const out = (await d.cli(['deaths', '--file', join(d.dataRoot, 'reactor.v1.acme-lines-deaths', 'deaths.log')])).stdout;
      return /guide-job exited 3/.test(out) ? out : undefined;
    });
    const position = Number(/^#(\d+) /.exec(deaths)![1]);
    const events = await d.cli(['events', '--since', '10m', '--until', '0s', '--filter', 'container=guide-job', '--format', '{{.Position}} {{.Action}}']);
    assert.equal(events.code, 0, events.stderr);
    assert.ok(events.stdout.split('\n').includes(`${position} die`), `events shows the death at position ${position}:\n${events.stdout}`);
    const before = await d.cli(['replay', '--until', String(position - 1), '--container', 'guide-job', '--format', 'json']);
    assert.equal((JSON.parse(before.stdout) as { container: { State: { Status: string } } }).container.State.Status, 'running');
    const past = await d.cli(['replay', '--until', '999999']);
    assert.equal(past.code, 1);
    assert.match(past.stderr, /^Error response from daemon: position 999999 is past the end of the event log: its last position is \d+\n$/);
  });

  it('a package that fails to load is listed with its reason, and named where its driver is missing', async () => {
    const broken = join(work, 'acme-broken');
    mkdirSync(broken, { recursive: true });
    const manifest = { name: 'acme-broken', version: '0.1.0', type: 'module', tinyDocker: { module: './m.js' }, peerDependencies: { 'tiny-docker': '*' }, peerDependenciesMeta: { 'tiny-docker': { optional: true } } };
    writeFileSync(join(broken, 'package.json'), JSON.stringify(manifest));
    writeFileSync(join(broken, 'm.js'), "import 'acme-missing-dependency';\nexport default 1;\n");
    const invalid = await d.cli(['plugins', 'install', broken], { timeoutMs: 300_000 });
    assert.equal(invalid.code, 1);
    assert.equal(invalid.stderr, 'Error: acme-broken is not an oclif plugin: its package.json needs an "oclif" section (at least "oclif": {}), see docs/writing-a-driver.md\n');
    const missing = await d.cli(['plugins', 'install', join(work, 'nothing-here.tgz')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^Error: no such plugin folder or tarball: \S+nothing-here\.tgz\n$/);
    assert.doesNotMatch((await d.cli(['plugins'])).stdout, /acme-broken/, 'a refused package is not half installed');
    writeFileSync(join(broken, 'package.json'), JSON.stringify({ ...manifest, oclif: {} }));
    const r = await d.cli(['plugins', 'install', broken], { timeoutMs: 300_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /the daemon could not load acme-broken: .*acme-missing-dependency/);
    const listed = JSON.parse((await d.cli(['info', '--json'])).stdout) as { TinyPlugins: { id: string; package: string; status: string; reason?: string }[] };
    const entry = listed.TinyPlugins.find((p) => p.package === 'acme-broken');
    assert.equal(entry?.status, 'error');
    assert.match(entry?.reason ?? '', /^failed to load: .*acme-missing-dependency/);
    const plugins = await d.cli(['plugins']);
    assert.equal(plugins.code, 0, plugins.stderr);
    assert.match(plugins.stdout, /In the running daemon:\n(.*\n)* {2}acme-lines: log\.v1\.acme-lines ok\n/);
    assert.match(plugins.stdout, / {2}acme-broken: the package error \(failed to load: .*acme-missing-dependency/);
    const run = await d.cli(['run', '--rm', '--log-driver', 'acme-broken', 'busybox', 'true']);
    assert.equal(run.code, 125);
    assert.match(run.stderr, /logging driver "acme-broken" is not available: .*plugin package acme-broken failed to load \(.*acme-missing-dependency/);
    assert.match(d.log(), /error.*plugin acme-broken failed to load/i);
    assert.deepEqual(readdirSync(d.dataRoot).filter((n) => n.includes('acme-broken')), [], 'nothing made for it');
  });
});
