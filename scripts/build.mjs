#!/usr/bin/env node
// Builds everything a fresh clone needs: TypeScript, plugin package manifests, the C shim, the oclif manifest.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) {
    console.error(`build: ${cmd} ${args.join(' ')} failed with exit code ${r.status}`);
    process.exit(r.status ?? 1);
  }
}

function step(name) {
  if (!quiet) console.error(`build: ${name}`);
}

step('tsc');
run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);

step('plugin manifests and native parts');
for (const name of readdirSync(join(root, 'plugins'))) {
  const src = join(root, 'plugins', name);
  const out = join(root, 'dist', 'plugins', name);
  mkdirSync(out, { recursive: true });
  if (existsSync(join(src, 'package.json'))) cpSync(join(src, 'package.json'), join(out, 'package.json'));
  // A plugin's native parts: shim/ (the isolator's), native/ (the bridge driver's netlink session).
  for (const part of ['shim', 'native'].filter((p) => existsSync(join(src, p, 'Makefile')))) {
    const cc = process.env.CC ?? 'cc';
    const probe = spawnSync(cc, ['--version'], { stdio: 'ignore' });
    if (probe.error || probe.status !== 0) {
      console.error(`build: no C compiler found (tried "${cc}"): install one with "apt-get install -y gcc make" and run "npm run build" again`);
      process.exit(1);
    }
    run('make', ['-s', '-C', join(src, part), `OUT=${join(out, 'bin')}`, `CC=${cc}`]);
  }
}

step('native helpers of core');
run('make', ['-s', '-C', join(root, 'core', 'archive', 'native'), `OUT=${join(root, 'dist', 'core', 'archive', 'bin')}`, `CC=${process.env.CC ?? 'cc'}`]);

step('web page (cli/ui/page: type check, esbuild bundle)');
run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join('cli', 'ui', 'page', 'tsconfig.json')]);
{
  const page = join(root, 'cli', 'ui', 'page');
  const assets = join(root, 'dist', 'cli', 'ui', 'assets');
  mkdirSync(assets, { recursive: true });
  const esbuild = await import('esbuild');
  await esbuild.build({
    entryPoints: [join(page, 'main.ts')],
    outfile: join(assets, 'app.js'),
    bundle: true,
    format: 'esm',
    target: 'es2020',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'app.css']) cpSync(join(page, file), join(assets, file));
}

step('CLI bundle (esbuild: entry, runtime, built-in commands) and its V8 code cache');
{
  // One CommonJS file with every declared built-in command (cli/launcher.cts loads it); the
  // commands oclif's plugin-plugins makes (plugins, plugins install) are not declared and stay out.
  const { declarationOf } = await import(join(root, 'dist', 'cli', 'lib', 'command-declaration.js'));
  const commandsDir = join(root, 'dist', 'cli', 'commands');
  const names = [];
  const walk = (dir, prefix) => {
    for (const name of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (name.isDirectory()) walk(join(dir, name.name), [...prefix, name.name]);
      else if (name.name.endsWith('.js')) names.push([...prefix, name.name.slice(0, -3)]);
    }
  };
  walk(commandsDir, []);
  const declared = [];
  for (const words of names) {
    const mod = await import(join(commandsDir, ...words) + '.js');
    if (declarationOf(mod.default)) declared.push(words);
  }
  const contents = [
    "import { main } from './dist/cli/entry.js';",
    "import { declarationOf } from './dist/cli/lib/command-declaration.js';",
    "import { warmUp } from './dist/cli/lib/command-runtime.js';",
    // import(): esbuild makes each command a lazy part of the one file, run only when asked for
    `const builtins = new Map([${declared.map((words) => `['${words.join(' ')}', () => import('./dist/cli/commands/${words.join('/')}.js')]`).join(', ')}]);`,
    'export const run = (args) => main(args, async (name) => (await builtins.get(name)?.())?.default);',
    'export const warm = async () => warmUp(await Promise.all([...builtins.values()].map(async (load) => declarationOf((await load()).default))));',
  ].join('\n');
  const esbuild = await import('esbuild');
  const outfile = join(root, 'dist', 'cli', 'lib', 'cli-bundle.cjs');
  await esbuild.build({
    stdin: { contents, resolveDir: root, sourcefile: 'cli-bundle-entry.js', loader: 'js' },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    // the modules find the package root from their own place (cli/lib/paths.ts: dist/cli/lib)
    define: { 'import.meta.url': '__bundleUrl' },
    banner: { js: 'const __bundleUrl = require("node:url").pathToFileURL(__filename).href;' },
    logLevel: 'warning',
    // a vm.Script has no loader for import(): @oclif/core (CommonJS) is required instead
    plugins: [{
      name: 'oclif-by-require',
      setup(b) {
        b.onLoad({ filter: /[\\/]cli[\\/]lib[\\/]oclif-loader\.js$/ }, () => ({ contents: "export const loadOclif = async () => require('@oclif/core');", loader: 'js' }));
      },
    }],
  });
  const { writeBundleCache } = await import(join(root, 'dist', 'cli', 'launcher.cjs'));
  if (!(await writeBundleCache())) throw new Error('build: the CLI bundle did not load');
}

step('oclif manifest');
const { Plugin } = await import('@oclif/core');
const plugin = new Plugin({ root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true, isRoot: true });
await plugin.load();
writeFileSync(join(root, 'oclif.manifest.json'), JSON.stringify(plugin.manifest, null, 2) + '\n');
step('done');
