/**
 * What bin/mini-docker runs. Each built-in command is one file, dist/cli/bundles/<command>.cjs
 * (esbuild, at build time: cli/entry.ts, the runtime, the parser and that command with what it
 * imports from cli/ and core/; npm packages stay outside), compiled with V8's code cache
 * (dist/cli/bundles/<command>.cache). So a command reads two small files instead of resolving,
 * reading and compiling some thirty ES modules, and V8 neither compiles what the cache holds nor
 * reads and deserializes the code of the other commands. Anything else (help, `plugins …`, a
 * plugin's command, an unknown command, argv starting with a flag) runs the bundle of the entry
 * alone (`_rest.cjs`), which loads oclif; a build without bundles, the ES modules of dist/cli
 * (entry.js).
 *
 * The caches are made at build time (scripts/build.mjs calls `writeBundleCache`); when V8 refuses
 * one (another node version or V8 flags), the command writes a new one after compiling.
 */
import { accessSync, closeSync, constants, fstatSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync, type Stats } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import vm from 'node:vm';

// A CommonJS module (.cts), as bin/mini-docker is (bin/package.json): node starts an ES module
// about 8 ms later than a CommonJS one, which is more than the whole rest of `--version`.

/** oclif's user agent line, as `mini-docker --version` prints it ("tiny-docker/0.1.0 linux-x64 node-v20.20.2"). */
export function versionLine(pkg: { readonly name: string; readonly version: string }): string {
  return `${pkg.name}/${pkg.version} ${process.platform}-${process.arch} node-${process.version}`;
}

/** A command bundle's exports (scripts/build.mjs writes its entry). */
export interface CliBundle {
  run(args: readonly string[]): Promise<void>;
  /** Runs the parser over the command's declaration, for the code cache. */
  warm(): void;
}

/** Where the command bundles are: dist/cli/bundles. */
export const BUNDLES_DIR = join(__dirname, 'bundles');

/** A command's bundle: `ps` is dist/cli/bundles/ps.cjs, `container prune` …/container.prune.cjs. */
export function bundleFileOf(words: readonly string[]): string {
  return join(BUNDLES_DIR, `${words.join('.')}.cjs`);
}

/** The code cache the build made for a bundle, beside it (ps.cache). */
export function cacheFileOf(bundleFile: string): string {
  return bundleFile.replace(/\.cjs$/, '.cache');
}

/**
 * The code cache a command writes after its first successful run (ps.<size>-<mtime>.run.cache): V8
 * compiles lazily, so this one holds what the run used besides the parser (the request, the table),
 * which the build cannot run without a daemon. Read before the build's. Its name holds the bundle's
 * size and modification time: V8 checks only a source's length against a cache, and a bundle
 * replaced in place (not by the build, which empties the folder) must not meet the old one's code.
 */
export function runCacheFileOf(bundleFile: string, stat: { readonly size: number; readonly mtimeMs: number }): string {
  return bundleFile.replace(/\.cjs$/, `.${stat.size}-${Math.trunc(stat.mtimeMs)}.run.cache`);
}

/**
 * The bundle of everything that is not a built-in command (help, `plugins …`, a plugin's command,
 * an unknown command, argv that starts with a flag): the entry alone, which hands argv to oclif.
 * Its name is no command's (a command's words start with a letter).
 */
export const REST_BUNDLE = '_rest';

/** A command name's word, as cli/entry.ts reads one (so nothing else becomes a path). */
const WORD = /^[a-z][a-z0-9-]*$/;

/**
 * The bundles argv may name, in the order cli/entry.ts looks a command up: its first two words
 * (`container prune`), then its first (`ps`); none when argv starts with a flag.
 */
export function bundleCandidates(args: readonly string[]): string[] {
  const [first, second] = args;
  if (first === undefined || !WORD.test(first)) return [];
  return second !== undefined && WORD.test(second) ? [bundleFileOf([first, second]), bundleFileOf([first])] : [bundleFileOf([first])];
}

/** Removes a file, quietly when it is gone already or cannot be. */
function removeFile(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // gone already, or a read-only install
  }
}

/** Writes V8's code cache of a script, atomically (another CLI may be reading it). */
function saveCache(script: vm.Script, file: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, script.createCachedData());
    renameSync(tmp, file);
  } catch {
    // a read-only install: the next command compiles again
    removeFile(tmp);
  }
}

/** A bundle compiled and run: its exports, its script, and which cache it came from. */
export interface LoadedBundle {
  readonly bundle: CliBundle;
  readonly script: vm.Script;
  /** The cache file V8 took, or undefined when it compiled from source. */
  readonly cache: string | undefined;
  /** Where this bundle's run cache goes (undefined without caches). */
  readonly runCache: string | undefined;
}

/**
 * Compiles and runs a bundle as a CommonJS module, with the run's code cache, else the build's;
 * undefined when there is no such file. When V8 refuses the build's cache (another node, other V8
 * flags) or there is none, it is written again; a run cache V8 refuses is removed (the next runs
 * take the build's, then make a run cache again).
 */
export function loadBundle(file: string, options: { readonly useCache?: boolean } = {}): LoadedBundle | undefined {
  let code: string;
  let stat: Stats;
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    // the size and time of the file read (the run cache's name), even if a build replaces it meanwhile
    stat = fstatSync(fd);
    code = readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
  let cacheFile: string | undefined;
  let cachedData: Buffer | undefined;
  let runCache: string | undefined;
  if (options.useCache !== false) {
    runCache = runCacheFileOf(file, stat);
    for (const candidate of [runCache, cacheFileOf(file)]) {
      try {
        cachedData = readFileSync(candidate);
        cacheFile = candidate;
        break;
      } catch {
        // not made yet
      }
    }
  }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${code}\n})`, {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const module: { exports: unknown } = { exports: {} };
  (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(file), module, file, dirname(file));
  const taken = cachedData !== undefined && script.cachedDataRejected !== true;
  if (options.useCache !== false && !taken) {
    if (cacheFile !== undefined && cacheFile === runCache) {
      // a run cache V8 refuses goes: the build's cache, made again if refused too, then a run's
      removeFile(cacheFile);
    } else {
      saveCache(script, cacheFileOf(file));
    }
  }
  return { bundle: module.exports as CliBundle, script, cache: taken ? cacheFile : undefined, runCache };
}

/**
 * After a command's first successful run on the build's cache: its own cache, with what the run
 * compiled (once; nothing when the folder is not writable, as for a user of a root's install, nor
 * after a run that went to oclif: help, and the rest's bundle).
 */
function saveRunCache(loaded: LoadedBundle, file: string): void {
  if (loaded.runCache === undefined || loaded.cache !== cacheFileOf(file) || (process.exitCode !== undefined && process.exitCode !== 0)) return;
  // help (`ps --help`) and the rest go through oclif: a run cache of that run would hold none of the command's own code
  if (Object.keys(require.cache).some((key) => key.includes(`${sep}@oclif${sep}`))) return;
  try {
    accessSync(dirname(file), constants.W_OK);
  } catch {
    return;
  }
  saveCache(loaded.script, loaded.runCache);
}

/** Runs a loaded command bundle, then writes its run cache if this was its first good run on the build's. */
export async function runBundle(loaded: LoadedBundle, file: string, args: readonly string[]): Promise<void> {
  await loaded.bundle.run(args);
  saveRunCache(loaded, file);
}

/**
 * Once nothing is left to do (the output written, the connection closed: what node waits for
 * before 'beforeExit'), end the process at once: node's own ending then frees the whole heap and
 * the environment first, which a CLI about to exit does not need (~1 ms of CPU).
 */
function exitWhenIdle(): void {
  process.once('beforeExit', () => process.exit());
}

/** For scripts/build.mjs: a command bundle's code cache, after compiling what its parsing needs. */
export async function writeBundleCache(words: readonly string[]): Promise<boolean> {
  const file = bundleFileOf(words);
  const loaded = loadBundle(file, { useCache: false });
  if (!loaded) return false;
  await loaded.bundle.warm();
  saveCache(loaded.script, cacheFileOf(file));
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
  for (const file of bundleCandidates(args)) {
    const loaded = loadBundle(file);
    if (!loaded) continue;
    exitWhenIdle();
    await runBundle(loaded, file, args);
    return;
  }
  const rest = loadBundle(bundleFileOf([REST_BUNDLE]));
  if (rest) {
    exitWhenIdle();
    return runBundle(rest, bundleFileOf([REST_BUNDLE]), args);
  }
  const { main } = await import('./entry.js');
  return main(args);
}
