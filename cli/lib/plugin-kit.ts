import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The conformance suites a plugin's own tests import from the kit: `tiny-docker/testing/<kind>`. */
export const KIT_SUITES = ['log', 'reactor', 'storage', 'limiter', 'isolator', 'exporter'] as const;

interface EnginePackageJson {
  readonly name: string;
  readonly version: string;
  readonly dependencies: Readonly<Record<string, string>>;
}

/**
 * The package.json of the plugin kit: the package `tiny-docker` reduced to what a plugin needs
 * outside this repository: the plugin API and the event types (`tiny-docker/plugin-api`,
 * `tiny-docker/events`), and the conformance suites (`tiny-docker/testing/log` …). Its runtime
 * dependencies are the engine's, without the CLI's.
 */
export function kitPackageJson(engine: EnginePackageJson): Record<string, unknown> {
  const runtime = Object.fromEntries(Object.entries(engine.dependencies).filter(([name]) => !name.startsWith('@oclif/')));
  const exports: Record<string, { types: string; default: string }> = {
    './plugin-api': { types: './dist/core/plugin-api.d.ts', default: './dist/core/plugin-api.js' },
    './events': { types: './dist/events/index.d.ts', default: './dist/events/index.js' },
  };
  for (const kind of KIT_SUITES) exports[`./testing/${kind}`] = { types: `./dist/test/${kind}-conformance.d.ts`, default: `./dist/test/${kind}-conformance.js` };
  return {
    name: engine.name,
    version: engine.version,
    description: `The plugin kit of ${engine.name} ${engine.version}: the plugin API's code and types, and the drivers' conformance suites`,
    type: 'module',
    license: 'MIT',
    exports,
    dependencies: runtime,
  };
}

/** Copies the compiled files a kit needs (JavaScript and declarations, no source maps). */
function copyCompiled(from: string, to: string): void {
  cpSync(from, to, { recursive: true, filter: (src) => !src.endsWith('.map') && !src.endsWith('.tsbuildinfo') });
}

/**
 * Packs the plugin kit from an installed engine (its `dist/`) into `outDir` with `npm pack`, and
 * returns the tarball's path (`tiny-docker-<version>.tgz`). A plugin puts it in its
 * devDependencies as `"tiny-docker": "file:./tiny-docker-<version>.tgz"`.
 */
export async function packPluginKit(packageRoot: string, outDir: string): Promise<string> {
  const engine = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as EnginePackageJson;
  const dist = join(packageRoot, 'dist');
  if (!existsSync(join(dist, 'core', 'plugin-api.js'))) throw new Error(`${packageRoot} has no built engine (dist/core/plugin-api.js): run "npm run build" there first`);
  const stage = mkdtempSync(join(tmpdir(), 'tiny-docker-plugin-kit-'));
  try {
    copyCompiled(join(dist, 'core'), join(stage, 'dist', 'core'));
    copyCompiled(join(dist, 'events'), join(stage, 'dist', 'events'));
    copyCompiled(join(dist, 'test', 'fixtures'), join(stage, 'dist', 'test', 'fixtures'));
    for (const name of readdirSync(join(dist, 'test')).filter((n) => /-conformance\.(js|d\.ts)$/.test(n))) {
      cpSync(join(dist, 'test', name), join(stage, 'dist', 'test', name));
    }
    writeFileSync(join(stage, 'package.json'), `${JSON.stringify(kitPackageJson(engine), null, 2)}\n`);
    writeFileSync(join(stage, 'README.md'), `# ${engine.name} plugin kit ${engine.version}\n\nMade by \`mini-docker plugins kit\`. See docs/writing-a-driver.md of ${engine.name}.\n`);
    mkdirSync(outDir, { recursive: true });
    const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', outDir], { cwd: stage, env: { ...process.env, npm_config_update_notifier: 'false' } });
    const file = stdout.trim().split('\n').pop() ?? '';
    if (file === '') throw new Error('npm pack printed no file name');
    return join(outDir, file);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
