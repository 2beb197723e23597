/**
 * The CLI's entry point, for bin/mini-docker. Loading @oclif/core costs about 100 ms, more than
 * the rest of most commands, so oclif is loaded only when it has something to do:
 *
 * - `--version` (what oclif would print: "tiny-docker/0.1.0 linux-x64 node-v20.20.2") is answered
 *   from package.json;
 * - a built-in command (a declared command, cli/lib/command-declaration.ts) is loaded from its
 *   file and run by cli/lib/command-runtime.ts, exactly as oclif's loading of the same class runs it;
 * - everything else (help, `plugins …`, a plugin's command, an unknown command) goes to oclif's
 *   `execute`, which loads only the running command (oclif.manifest.json).
 *
 * Global flags before the command name (`-H unix:///x.sock ps`, `--tls…`, `-D`, `-l`, `--config`)
 * are taken off first (splitGlobalArgs, cli/global-args.cts): -D, -l and --config set the environment,
 * the others go to the command's parser as if given after the command name.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOclif } from './lib/oclif-loader.js';
import { packageRoot } from './lib/paths.js';
import { globalFlagError, splitGlobalArgs } from './global-args.cjs';
import { versionLine } from './launcher.cjs';

const root = packageRoot();

const commandsDir = join(root, 'dist', 'cli', 'commands');

/** A built-in command's default export by its name (`ps`, `container prune`); undefined when there is none. */
export type BuiltinLookup = (name: string) => Promise<unknown>;

/** Built-in commands from their files in dist/cli/commands (the bundle passes its own table instead). */
const fromFiles: BuiltinLookup = async (name) => {
  const file = join(commandsDir, ...name.split(' ')) + '.js';
  return existsSync(file) ? ((await import(file)) as { default?: unknown }).default : undefined;
};

/**
 * Runs a built-in declared command without loading oclif; false when argv is not one (oclif's
 * own commands, plugins, help) or MINI_DOCKER_NO_FAST_PATH=1 asks for oclif's way of loading it.
 * `container prune …` is looked up as a two-word name first, then `ps …` as one word.
 */
async function runBuiltin(argv: readonly string[], env: NodeJS.ProcessEnv, lookup: BuiltinLookup, globalArgs: readonly string[]): Promise<boolean> {
  if (env.MINI_DOCKER_NO_FAST_PATH === '1') return false;
  const word = /^[a-z][a-z0-9-]*$/;
  const [first, second] = argv;
  if (first === undefined || !word.test(first)) return false;
  const { declarationOf } = await import('./lib/command-declaration.js');
  for (const words of second !== undefined && word.test(second) ? [2, 1] : [1]) {
    const decl = declarationOf(await lookup(argv.slice(0, words).join(' ')));
    if (!decl) continue;
    const { runDeclaration } = await import('./lib/command-runtime.js');
    await runDeclaration(decl, argv.slice(words), { commandName: argv.slice(0, words).join(' '), globalArgs });
    return true;
  }
  return false;
}

export { versionLine };

/**
 * bin/mini-docker starts node without NODE_EXTRA_CA_CERTS (node would parse the CA bundle at start
 * for a CLI that makes no TLS connection) and keeps its value in MINI_DOCKER_NODE_EXTRA_CA_CERTS:
 * put it back, so that the processes the CLI starts (the daemon, npm) get the environment as it was.
 */
export function restoreExtraCaCerts(env: NodeJS.ProcessEnv): void {
  const saved = env.MINI_DOCKER_NODE_EXTRA_CA_CERTS;
  if (saved === undefined) return;
  env.NODE_EXTRA_CA_CERTS = saved;
  delete env.MINI_DOCKER_NODE_EXTRA_CA_CERTS;
}

/** Exit status after a write to a closed pipe: what a shell reports for a process killed by SIGPIPE. */
export const CLOSED_PIPE_EXIT = 141;

/** What `watchOutputErrors` needs of `process`. */
export interface OutputProcess {
  readonly stdout: { on(event: 'error', listener: (err: NodeJS.ErrnoException) => void): unknown };
  readonly stderr: { on(event: 'error', listener: (err: NodeJS.ErrnoException) => void): unknown; write(text: string): unknown };
  exit(code: number): void;
}

/**
 * `mini-docker logs C | head -1`: once the reader is gone, stop quietly, as a program killed by
 * SIGPIPE does (node ignores SIGPIPE and reports EPIPE as an 'error' event, which would otherwise
 * end in a stack trace). Another write error on stdout is one line on stderr and status 1.
 */
export function watchOutputErrors(proc: OutputProcess): void {
  proc.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') {
      proc.exit(CLOSED_PIPE_EXIT);
      return;
    }
    proc.stderr.write(`Error: cannot write the output: ${err.message}\n`);
    proc.exit(1);
  });
  proc.stderr.on('error', (err: NodeJS.ErrnoException) => proc.exit(err.code === 'EPIPE' ? CLOSED_PIPE_EXIT : 1));
}

/** What bin/mini-docker renames `--env-file` to, so that node does not take it for its own. */
const ENV_FILE_ALIAS = '--mini-docker-env-file';

/** Gives back the `--env-file` arguments bin/mini-docker renamed (node 20 would read them itself). */
export function restoreEnvFileArgs(argv: readonly string[]): string[] {
  return argv.map((a) => (a.startsWith(ENV_FILE_ALIAS) ? `--env-file${a.slice(ENV_FILE_ALIAS.length)}` : a));
}

/** Runs the CLI with these arguments; `builtin` finds a built-in command (from its file unless given). */
export async function main(args: readonly string[] = process.argv.slice(2), builtin: BuiltinLookup = fromFiles): Promise<void> {
  let argv = restoreEnvFileArgs(args);
  restoreExtraCaCerts(process.env);
  watchOutputErrors(process);
  let globalArgs: readonly string[] = [];
  if (argv[0]?.startsWith('-') === true && argv[0] !== '--version') {
    // global flags before the command name, as the docker client reads them (`-H unix:///x.sock ps`)
    const split = splitGlobalArgs(argv);
    if (split.kind === 'error') {
      process.stderr.write(`${globalFlagError(split.message)}\n`);
      process.exitCode = 125;
      return;
    }
    argv = [...split.rest];
    if (split.globals.length > 0) {
      const { applyEnvironmentFlags, GLOBAL_ARGS_SLOT } = await import('./lib/command-runtime.js');
      const { UsageError } = await import('./lib/argv-parser.js');
      try {
        globalArgs = applyEnvironmentFlags(split.globals, process.env);
      } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        process.stderr.write(`${globalFlagError(err.message)}\n`);
        process.exitCode = err.exitCode;
        return;
      }
      // for a declared command that oclif runs (its static run reads them there)
      (globalThis as Record<symbol, unknown>)[GLOBAL_ARGS_SLOT] = globalArgs;
    }
  }
  if (argv.length === 1 && argv[0] === '--version') {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string };
    process.stdout.write(`${versionLine(pkg)}\n`);
    return;
  }
  if (await runBuiltin(argv, process.env, builtin, globalArgs)) return;
  const { execute, settings } = await loadOclif();
  // Plugins run as compiled JavaScript: oclif must not try ts-node on a linked TypeScript plugin
  // (it cannot for ESM on Node 20, and warned "linked ESM module" on every command).
  settings.enableAutoTranspile = false;
  await execute({ dir: root, args: [...argv] });
}
