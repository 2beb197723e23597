/**
 * What bin/mini-docker runs. Each built-in command is one file, dist/cli/bundles/<command>.cjs
 * (esbuild, at build time: cli/entry.ts, the runtime, the parser and that command with what it
 * imports from cli/ and core/; npm packages stay outside), compiled with V8's code cache
 * (dist/cli/bundles/<command>.<V8 version>.cache). So a command reads two small files instead of
 * resolving, reading and compiling some thirty ES modules, and V8 neither compiles what the cache
 * holds nor reads and deserializes the code of the other commands. Anything else (help, `plugins
 * …`, a plugin's command, an unknown command) runs the bundle of the
 * entry alone (`_rest.cjs`), which loads oclif; a build without bundles, the ES modules of dist/cli
 * (entry.js).
 *
 * The caches are made at build time (scripts/build.mjs calls `writeBundleCache`) for the node that
 * builds; another node version, or node started with other options, has caches of its own name,
 * which its first command writes after compiling from source.
 */
import { accessSync, closeSync, constants, fstatSync, openSync, readFileSync, readSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
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

/**
 * What V8 checks a code cache against besides the source: its version and its flags (V8 refuses a
 * cache made by another V8 or under other flags, and then compiles from source). The caches of a
 * bundle are named by it, so each node version and each set of options finds its own and leaves
 * the others' alone: `11.3.244.8-node.38`, then, when node was started with options or
 * NODE_OPTIONS is set, a hash of them (`11.3.244.8-node.38-e48e47ba` for
 * `--max-old-space-size=300`, on the command line or in NODE_OPTIONS). The options that give node
 * its script (`-e`, `--eval`, `-p`, `--print`, `-pe`, `--input-type`: bin/mini-docker runs `node
 * -e`) are not counted; an option of node's own that V8 never sees only gives that set of options
 * caches of its own.
 */
export function cacheTag(execArgv: readonly string[] = process.execArgv, nodeOptions: string | undefined = process.env.NODE_OPTIONS): string {
  const options: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const option = execArgv[i]!;
    if (option === '-e' || option === '--eval' || option === '-p' || option === '--print' || option === '-pe') i++;
    else if (!/^--(eval|print|input-type)(=|$)/.test(option)) options.push(option);
  }
  if (nodeOptions !== undefined && nodeOptions.trim() !== '') options.push(nodeOptions.trim());
  if (options.length === 0) return process.versions.v8;
  // FNV-1a: a few bytes of options, no crypto module (~2 ms to load)
  let hash = 0x811c9dc5;
  for (const char of options.join('\0')) hash = Math.imul(hash ^ char.codePointAt(0)!, 0x01000193);
  return `${process.versions.v8}-${(hash >>> 0).toString(16).padStart(8, '0')}`;
}

/** The code cache the build made for a bundle, beside it: ps.11.3.244.8-node.38.cache. */
export function cacheFileOf(bundleFile: string, tag: string = cacheTag()): string {
  return bundleFile.replace(/\.cjs$/, `.${tag}.cache`);
}

/**
 * The code cache a command writes after its first successful run (ps.11.3.244.8-node.38.run.cache):
 * V8 compiles lazily, so this one holds what the run used besides the parser (the request, the
 * table), which the build cannot run without a daemon. Read before the build's.
 */
export function runCacheFileOf(bundleFile: string, tag: string = cacheTag()): string {
  return bundleFile.replace(/\.cjs$/, `.${tag}.run.cache`);
}

/**
 * A cache file: "tdcc", the bundle's length in bytes (uint32 LE), the bundle itself, zeros up to a
 * multiple of 8 (V8 copies cached data that is not aligned), then V8's code cache. V8 checks only a
 * source's length against a cache, and runs the cached code of a bundle replaced in place by another
 * of the same length: the launcher takes a cache only when the bundle it holds is byte for byte the
 * one it read (reading and comparing the copy: ~0.2 ms of CPU per command; hashing the bundle costs
 * 1-2 ms, in JavaScript or by loading node:crypto or node:zlib).
 */
const CACHE_MAGIC = 0x63636474; // "tdcc"
const CACHE_HEADER = 8;

const cacheDataOffset = (sourceLength: number): number => (CACHE_HEADER + sourceLength + 7) & ~7;

/** A uint32 LE of a buffer, byte by byte: a command's first readUInt32LE costs ~0.03 ms (node compiles it). */
const uint32At = (data: Buffer, at: number): number => (data[at]! | (data[at + 1]! << 8) | (data[at + 2]! << 16) | (data[at + 3]! << 24)) >>> 0;

/**
 * The V8 code cache in a cache file, when the file holds exactly this bundle; undefined otherwise.
 * Read in two parts, the header with the bundle's copy, then V8's cache: each stays below glibc's
 * mmap threshold (128 KiB), above which a buffer is mapped fresh and faulted in page by page (ps's
 * 150 KB run cache read whole took 0.11 ms, the 81 KB one before the copy 0.03 ms).
 */
function cachedDataFor(file: string, source: Buffer): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined; // not made yet
  }
  try {
    const offset = cacheDataOffset(source.length);
    const head = Buffer.allocUnsafe(offset);
    if (readSync(fd, head, 0, offset, 0) !== offset || uint32At(head, 0) !== CACHE_MAGIC || uint32At(head, 4) !== source.length) return undefined;
    if (!head.subarray(CACHE_HEADER, CACHE_HEADER + source.length).equals(source)) return undefined;
    const length = fstatSync(fd).size - offset;
    if (length <= 0) return undefined;
    const data = Buffer.allocUnsafe(length);
    return readSync(fd, data, 0, length, offset) === length ? data : undefined;
  } catch {
    return undefined; // unreadable: compiled without it
  } finally {
    closeSync(fd);
  }
}

/** Where a cache file is written before it is renamed into place: a name no other process picks. */
export function tempFileOf(file: string): string {
  return `${file}.${process.pid}-${Math.random().toString(36).slice(2, 10)}.tmp`;
}

/**
 * The bundle of everything that is not a built-in command (help, `plugins …`, a plugin's command,
 * an unknown command, no command after the global flags): the entry alone, which hands argv to oclif.
 * Its name is no command's (a command's words start with a letter).
 */
export const REST_BUNDLE = '_rest';

/** A command name's word, as cli/entry.ts reads one (so nothing else becomes a path). */
const WORD = /^[a-z][a-z0-9-]*$/;

/**
 * The bundles argv may name, in the order cli/entry.ts looks a command up: its first two words
 * (`container prune`), then its first (`ps`); none when argv starts with a flag. argv here is
 * what follows the global flags (splitGlobalArgs, cli/global-args.cts).
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

/**
 * Writes V8's code cache of a script with its bundle, atomically (another CLI may be reading it):
 * the temporary file is created exclusively (O_EXCL, which also never follows a link), so two CLIs
 * never write one file, even two with the same pid in different pid namespaces sharing an install.
 */
function saveCache(script: vm.Script, source: Buffer, file: string): void {
  const tmp = tempFileOf(file);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx');
  } catch {
    return; // a read-only install (the next command compiles again), or the name is another's
  }
  try {
    const cached = script.createCachedData();
    const offset = cacheDataOffset(source.length);
    const data = Buffer.alloc(offset + cached.length);
    data.writeUInt32LE(CACHE_MAGIC, 0);
    data.writeUInt32LE(source.length, 4);
    source.copy(data, CACHE_HEADER);
    cached.copy(data, offset);
    try {
      writeFileSync(fd, data);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch {
    removeFile(tmp); // a full disk: the next command compiles again
  }
}

/** A bundle compiled and run: its exports, its script, and which cache it came from. */
export interface LoadedBundle {
  readonly bundle: CliBundle;
  readonly script: vm.Script;
  /** The bundle's bytes, as compiled (a cache file holds them). */
  readonly source: Buffer;
  /** The cache file V8 took, or undefined when it compiled from source. */
  readonly cache: string | undefined;
  /** Where this bundle's caches go for this node and its options (undefined without caches). */
  readonly runCache: string | undefined;
  readonly buildCache: string | undefined;
}

/** A bundle's code as a CommonJS module's function, compiled with a code cache when one is given. */
function compile(file: string, code: string, cachedData: Buffer | undefined): vm.Script {
  return new vm.Script(`(function (exports, require, module, __filename, __dirname) {${code}\n})`, {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
}

/**
 * Compiles and runs a bundle as a CommonJS module, with the run's code cache, else the build's (of
 * this node and its options, holding this very bundle); undefined when there is no such file. A
 * run cache V8 refuses (a cache of the same name made under V8 flags the name does not show) is
 * removed when it can be, and the build's is tried in the same command; when there is none V8
 * takes, the build's is written after compiling from source (nothing when the folder is not
 * writable, as for a user of a root's install: that command compiles from source).
 */
export function loadBundle(file: string, options: { readonly useCache?: boolean } = {}): LoadedBundle | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  let source: Buffer;
  try {
    // read as the caches are (openSync, fstatSync, readSync: node compiles each on its first call)
    source = Buffer.allocUnsafe(fstatSync(fd).size);
    if (readSync(fd, source, 0, source.length, 0) !== source.length) return undefined;
  } finally {
    closeSync(fd);
  }
  const code = source.toString('utf8');
  let script: vm.Script | undefined;
  let cache: string | undefined;
  let runCache: string | undefined;
  let buildCache: string | undefined;
  if (options.useCache !== false) {
    const tag = cacheTag();
    runCache = runCacheFileOf(file, tag);
    buildCache = cacheFileOf(file, tag);
    for (const candidate of [runCache, buildCache]) {
      const cachedData = cachedDataFor(candidate, source);
      if (cachedData === undefined) continue;
      script = compile(file, code, cachedData);
      if (script.cachedDataRejected !== true) {
        cache = candidate;
        break;
      }
      // refused (V8 compiled from source meanwhile): a run cache goes, the build's is written again below
      if (candidate === runCache) removeFile(candidate);
    }
  }
  // a script whose cache V8 refused is compiled from source already
  script ??= compile(file, code, undefined);
  const module: { exports: unknown } = { exports: {} };
  (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(file), module, file, dirname(file));
  if (buildCache !== undefined && cache === undefined) saveCache(script, source, buildCache);
  return { bundle: module.exports as CliBundle, script, source, cache, runCache, buildCache };
}

/**
 * After a command's first successful run on the build's cache: its own cache, with what the run
 * compiled (once; nothing when the folder is not writable, as for a user of a root's install, nor
 * after a run that went to oclif: help, and the rest's bundle).
 */
function saveRunCache(loaded: LoadedBundle): void {
  if (loaded.runCache === undefined || loaded.cache !== loaded.buildCache || (process.exitCode !== undefined && process.exitCode !== 0)) return;
  // help (`ps --help`) and the rest go through oclif: a run cache of that run would hold none of the command's own code
  if (Object.keys(require.cache).some((key) => key.includes(`${sep}@oclif${sep}`))) return;
  try {
    accessSync(dirname(loaded.runCache), constants.W_OK);
  } catch {
    return;
  }
  saveCache(loaded.script, loaded.source, loaded.runCache);
}

/** Runs a loaded command bundle, then writes its run cache if this was its first good run on the build's. */
export async function runBundle(loaded: LoadedBundle, args: readonly string[]): Promise<void> {
  await loaded.bundle.run(args);
  saveRunCache(loaded);
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
  saveCache(loaded.script, loaded.source, cacheFileOf(file));
  return true;
}

/** What the launcher does with argv: refuse a global flag, print the version, or run the first of these bundles that exists. */
export type LaunchPlan =
  | { readonly kind: 'refuse'; readonly line: string }
  | { readonly kind: 'version' }
  | { readonly kind: 'bundles'; readonly bundles: readonly string[] };

/**
 * The launcher's reading of argv: past the global flags before the command (`-H unix:///x.sock
 * ps`: splitGlobalArgs, cli/global-args.cts), `--version` (or `-v`) alone is the version line, else the command's
 * bundles (bundleCandidates) then the rest's. Only argv starting with a flag is split, so a
 * command typed first costs nothing more.
 */
export function launchPlan(args: readonly string[]): LaunchPlan {
  let command = args;
  if (args[0]?.startsWith('-') === true && args[0] !== '--version') {
    // only here: a command typed first never loads the split (cli/global-args.cts)
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when argv starts with a flag
    const { globalFlagError, splitGlobalArgs } = require('./global-args.cjs') as typeof import('./global-args.cjs');
    const split = splitGlobalArgs(args);
    // bin/mini-docker renamed `--env-file` (node 20 would read it, cli/entry.ts): the error names it as typed
    if (split.kind === 'error') return { kind: 'refuse', line: globalFlagError(split.message.replace('--mini-docker-env-file', '--env-file')) };
    command = split.rest;
  }
  if (command.length === 1 && command[0] === '--version') return { kind: 'version' };
  return { kind: 'bundles', bundles: [...bundleCandidates(command), bundleFileOf([REST_BUNDLE])] };
}

/**
 * A line on fd 1 or 2 directly: making process.stdout (a stream over a tty or pipe) costs ~3 ms of
 * CPU. A reader gone is quiet, as a program killed by SIGPIPE (what the commands do, entry.ts).
 */
function writeLine(fd: 1 | 2, line: string): void {
  try {
    writeSync(fd, `${line}\n`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
    process.exitCode = 141;
  }
}

/**
 * Runs the CLI: the bundle when there is one, else the ES modules. `--version` alone (after global
 * flags, or `-v`) is answered here, from package.json, before anything else is loaded. The command
 * is found after the global flags; the bundle gets argv whole (cli/entry.ts splits it again).
 */
export async function launch(args: readonly string[] = process.argv.slice(2)): Promise<void> {
  const plan = launchPlan(args);
  if (plan.kind === 'refuse') {
    writeLine(2, plan.line);
    process.exitCode = 125;
    return;
  }
  if (plan.kind === 'version') {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { name: string; version: string };
    writeLine(1, versionLine(pkg));
    return;
  }
  for (const file of plan.bundles) {
    const loaded = loadBundle(file);
    if (!loaded) continue;
    exitWhenIdle();
    await runBundle(loaded, args);
    return;
  }
  const { main } = await import('./entry.js');
  return main(args);
}
