/**
 * What bin/mini-docker runs. The CLI is one file, dist/cli/lib/cli-bundle.cjs (esbuild, at build
 * time: cli/entry.ts, the runtime, the parser and every built-in command with what they import from
 * cli/ and core/; npm packages stay outside), compiled with V8's code cache
 * (dist/cli/lib/cli-bundle.cache). So a command reads two files instead of resolving, reading and
 * compiling some thirty ES modules, and V8 does not compile what the cache holds. Without the bundle
 * (a build without it) the CLI runs the ES modules of dist/cli (entry.js).
 *
 * The cache is made at build time (scripts/build.mjs calls `writeBundleCache`); when V8 refuses it
 * (another node version or V8 flags), the command writes a new one after compiling.
 */
import { readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import vm from 'node:vm';

// A CommonJS module (.cts), as bin/mini-docker is (bin/package.json): node starts an ES module
// about 8 ms later than a CommonJS one, which is more than the whole rest of `--version`.

/** oclif's user agent line, as `mini-docker --version` prints it ("tiny-docker/0.1.0 linux-x64 node-v20.20.2"). */
export function versionLine(pkg: { readonly name: string; readonly version: string }): string {
  return `${pkg.name}/${pkg.version} ${process.platform}-${process.arch} node-${process.version}`;
}

/** The bundle's exports (scripts/build.mjs writes its entry). */
export interface CliBundle {
  run(args: readonly string[]): Promise<void>;
  /** Loads every command and runs the parser over each, for the code cache. */
  warm(): Promise<void>;
}

export const BUNDLE_FILE = join(__dirname, 'lib', 'cli-bundle.cjs');
export const CACHE_FILE = BUNDLE_FILE.replace(/\.cjs$/, '.cache');

/** Writes V8's code cache of a script, atomically (another CLI may be reading it). */
function saveCache(script: vm.Script, file: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, script.createCachedData());
    renameSync(tmp, file);
  } catch {
    // a read-only install: the next command compiles again
    try {
      unlinkSync(tmp);
    } catch {
      // never written
    }
  }
}

/** Compiles and runs the bundle as a CommonJS module; undefined when there is no bundle. */
export function loadBundle(options: { readonly useCache?: boolean } = {}): { readonly bundle: CliBundle; readonly script: vm.Script } | undefined {
  let code: string;
  try {
    code = readFileSync(BUNDLE_FILE, 'utf8');
  } catch {
    return undefined;
  }
  let cachedData: Buffer | undefined;
  if (options.useCache !== false) {
    try {
      cachedData = readFileSync(CACHE_FILE);
    } catch {
      cachedData = undefined;
    }
  }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${code}\n})`, {
    filename: BUNDLE_FILE,
    ...(cachedData ? { cachedData } : {}),
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const module: { exports: unknown } = { exports: {} };
  (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(BUNDLE_FILE), module, BUNDLE_FILE, dirname(BUNDLE_FILE));
  if (options.useCache !== false && (cachedData === undefined || script.cachedDataRejected === true)) saveCache(script, CACHE_FILE);
  return { bundle: module.exports as CliBundle, script };
}

/** For scripts/build.mjs: the code cache after compiling what every command's parsing needs. */
export async function writeBundleCache(): Promise<boolean> {
  const loaded = loadBundle({ useCache: false });
  if (!loaded) return false;
  await loaded.bundle.warm();
  saveCache(loaded.script, CACHE_FILE);
  return true;
}

/**
 * Runs the CLI: the bundle when there is one, else the ES modules. `--version` alone is answered
 * here, from package.json, before anything else is loaded.
 */
export async function launch(args: readonly string[] = process.argv.slice(2)): Promise<void> {
  if (args.length === 1 && args[0] === '--version') {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { name: string; version: string };
    // fd 1 directly: making process.stdout (a stream over a tty or pipe) costs ~3 ms of CPU
    try {
      writeSync(1, `${versionLine(pkg)}\n`);
    } catch (error) {
      // a reader gone: quiet, as a program killed by SIGPIPE (what the commands do, entry.ts)
      if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
      process.exitCode = 141;
    }
    return;
  }
  const loaded = loadBundle();
  if (loaded) return loaded.bundle.run(args);
  const { main } = await import('./entry.js');
  return main(args);
}
