#!/usr/bin/env node
// Builds everything a fresh clone needs: TypeScript, plugin package manifests, the C shim, the oclif manifest.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
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

step('CLI bundles (esbuild: one file per built-in command, with the entry and runtime) and their V8 code caches');
{
  // One CommonJS file per declared built-in command (cli/launcher.cts picks it from argv): the
  // entry, the runtime, the parser, the command and what it imports from cli/ and core/; npm
  // packages stay outside. The commands oclif's plugin-plugins makes (plugins, plugins install) are
  // not declared and have none: they run through the ES modules and oclif.
  const { declarationOf } = await import(join(root, 'dist', 'cli', 'lib', 'command-declaration.js'));
  const { REST_BUNDLE, bundleFileOf, writeBundleCache } = await import(join(root, 'dist', 'cli', 'launcher.cjs'));
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
  const bundlesDir = join(root, 'dist', 'cli', 'bundles');
  rmSync(bundlesDir, { recursive: true, force: true });
  const entriesDir = join(root, 'dist', 'cli', 'bundle-entries');
  rmSync(entriesDir, { recursive: true, force: true });
  mkdirSync(entriesDir, { recursive: true });
  const entryPoints = {};
  for (const words of declared) {
    const name = words.join(' ');
    const out = bundleFileOf(words);
    const entry = join(entriesDir, `${words.join('.')}.js`);
    writeFileSync(entry, [
      "import { main } from '../entry.js';",
      "import { declarationOf } from '../lib/command-declaration.js';",
      "import { warmUp } from '../lib/command-runtime.js';",
      `import command from '../commands/${words.join('/')}.js';`,
      `export const run = (args) => main(args, async (name) => (name === ${JSON.stringify(name)} ? command : undefined));`,
      'export const warm = () => warmUp([declarationOf(command)]);',
      '',
    ].join('\n'));
    entryPoints[out.slice(bundlesDir.length + 1, -'.cjs'.length)] = entry;
  }
  // The rest (help, `plugins …`, a plugin's command, an unknown command, argv that starts with a
  // flag): the entry alone, which finds no built-in and hands argv to oclif.
  const rest = join(entriesDir, `${REST_BUNDLE}.js`);
  writeFileSync(rest, ["import { main } from '../entry.js';", 'export const run = (args) => main(args, async () => undefined);', 'export const warm = () => {};', ''].join('\n'));
  entryPoints[REST_BUNDLE] = rest;
  const esbuild = await import('esbuild');
  const distUrl = (file) => JSON.stringify(relative(root, file).split(sep).join('/'));
  await esbuild.build({
    entryPoints,
    outdir: bundlesDir,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    // each module's import.meta.url is its own file's in dist (paths.ts finds the package root from
    // dist/cli/lib, the archive code its helpers in dist/core/archive/bin), found from the bundle's place
    banner: { js: 'const __moduleUrl = (file) => require("node:url").pathToFileURL(require("node:path").join(__dirname, "..", "..", "..", file)).href;' },
    logLevel: 'warning',
    plugins: [{
      name: 'tiny-docker-cli',
      setup(b) {
        // a vm.Script has no loader for import(): @oclif/core (CommonJS) is required instead
        b.onLoad({ filter: /[\\/]cli[\\/]lib[\\/]oclif-loader\.js$/ }, () => ({ contents: "export const loadOclif = async () => require('@oclif/core');", loader: 'js' }));
        b.onLoad({ filter: /[\\/]dist[\\/].*\.js$/ }, async (a) => {
          const text = await readFile(a.path, 'utf8');
          if (!text.includes('import.meta.url')) return undefined;
          return { contents: text.replaceAll('import.meta.url', `__moduleUrl(${distUrl(a.path)})`), loader: 'js' };
        });
      },
    }],
  });
  rmSync(entriesDir, { recursive: true, force: true });
  for (const words of [...declared, [REST_BUNDLE]]) {
    if (!(await writeBundleCache(words))) throw new Error(`build: the CLI bundle of '${words.join(' ')}' did not load`);
  }
}

step('oclif manifest');
const { Plugin } = await import('@oclif/core');
const plugin = new Plugin({ root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true, isRoot: true });
await plugin.load();
writeFileSync(join(root, 'oclif.manifest.json'), JSON.stringify(plugin.manifest, null, 2) + '\n');
step('done');
