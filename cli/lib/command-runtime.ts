/**
 * Runs a declared command (command-declaration.ts): parses its argv with the one parser, gives its
 * `run` a context (the daemon client, output, exit), prints its errors as one line with docker's
 * exit codes (`Error response from daemon: …` for the daemon's answers, `Error: …` for its own),
 * and prints what it returns as JSON under `--json`. The same code runs a command whether
 * cli/entry.ts loaded it directly or oclif did (the declared class's static run).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgv, UsageError } from './argv-parser.js';
import { allFlags, environmentFlags, globalFlags, type AnyFlag, type ArgDeclaration, type CommandDeclaration, type ParsedInput } from './command-declaration.js';

/** A parsed command line of any declared command. */
export type DeclaredInput = ParsedInput<Readonly<Record<string, AnyFlag>>, Readonly<Record<string, ArgDeclaration>>>;
import { DaemonClient } from './daemon-client.js';
import { CliError, DaemonError, errorLine, oneLine } from './errors.js';
import { loadOclif } from './oclif-loader.js';
import { packageRoot, resolveClientPaths, type ClientPaths } from './paths.js';

/** What a command's `run` works with. */
export interface CommandContext {
  /** The command as typed: `run`, `container prune`. */
  readonly name: string;
  /** The daemon client; its first request starts the daemon if none runs. */
  readonly client: DaemonClient;
  /** Socket, exec root and data root, from -H and the environment. */
  readonly paths: ClientPaths;
  /** True under --json: `out` prints nothing, and the value `run` returns is printed as JSON. */
  readonly jsonEnabled: boolean;
  /** The CLI's version (package.json). */
  readonly version: string;
  /** A line on stdout (nothing under --json). */
  out(line: string): void;
  /** A line on stderr. */
  err(line: string): void;
  /** `Warning: …` on stderr (nothing under --json). */
  warn(message: string): void;
  /** Ends the command with this exit status now. */
  exit(code: number): never;
}

/** `ctx.exit(code)` on its way up to the runtime. */
export class ExitSignal extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
    this.name = 'ExitSignal';
  }
}

/**
 * Where cli/entry.ts leaves the global flags given before the command name (-H, --tls…, written
 * `--name=value`) for a declared command that oclif loads (`MINI_DOCKER_NO_FAST_PATH=1`): oclif
 * calls the class's static run with the argv after the command name only, from a module instance
 * of its own (dist/cli/lib, not the bundle), so the hand-over is process-wide.
 */
export const GLOBAL_ARGS_SLOT = Symbol.for('tiny-docker.cli.global-args');

/** The global flags cli/entry.ts left for oclif's run of a declared command ([] when none). */
export function globalArgsOfProcess(): readonly string[] {
  const value = (globalThis as Record<symbol, unknown>)[GLOBAL_ARGS_SLOT];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/**
 * Applies the global flags given before the command name that set the environment (-D, -l,
 * --config: environmentFlags) and returns the others (-H, --tls…) for the command's parser.
 * `globals` are as splitGlobalArgs (cli/global-args.cts) writes them: `--name`, `--name=value`.
 * Throws UsageError for a bad value (`--debug=maybe`: exit 125; `--log-level=loud` and a second
 * `--host`: exit 1 and docker's words, as the docker client).
 */
export function applyEnvironmentFlags(globals: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const isEnvironmentFlag = (token: string): boolean => Object.hasOwn(environmentFlags, token.slice(2).split('=')[0]!);
  // docker refuses a second -H before the command (its endpoint resolution: "Specify only one -H"), exit 1
  if (globals.filter((token) => token === '--host' || token.startsWith('--host=')).length > 1) {
    throw new UsageError('Failed to initialize: unable to resolve docker endpoint: Specify only one -H', 1);
  }
  const outcome = parseArgv(environmentFlags, globals.filter(isEnvironmentFlag));
  if (outcome.kind === 'parsed') {
    const given = outcome.flags['log-level'];
    const level = typeof given === 'string' ? given.toLowerCase() : undefined;
    if (typeof given === 'string' && !LOG_LEVELS.has(given.toLowerCase())) throw new UsageError(`Unable to parse logging level: ${given}`, 1);
    if (outcome.flags.debug === true || level === 'debug' || level === 'trace') env.DEBUG = '1';
    if (typeof outcome.flags.config === 'string') env.DOCKER_CONFIG = outcome.flags.config;
  }
  return globals.filter((token) => !isEnvironmentFlag(token));
}

/** The levels the docker client's -l takes (logrus's ParseLevel: any case), exit 1 for another. */
const LOG_LEVELS: ReadonlySet<string> = new Set(['panic', 'fatal', 'error', 'warn', 'warning', 'info', 'debug', 'trace']);

/**
 * The command's parsed input, or 'help' when argv asks for the help. Throws UsageError.
 * `globalArgs` are the global flags given before the command name (`--host=unix:///x.sock`, from
 * applyEnvironmentFlags): their values count as if given after it, and one given on both sides is
 * refused (the docker client takes them only before the command; here both places work, once).
 */
export function parseCommand(decl: CommandDeclaration, argv: readonly string[], name: string, globalArgs: readonly string[] = []): DeclaredInput | 'help' {
  const outcome = parseArgv(allFlags(decl), argv, { stopAtFirstArg: decl.stopAtFirstArg === true });
  if (outcome.kind === 'help') return 'help';
  if (globalArgs.length > 0) {
    const before = parseArgv(globalFlags, globalArgs);
    if (before.kind === 'parsed') {
      for (const flagName of before.given) {
        if (outcome.given.includes(flagName)) throw new UsageError(`--${flagName} is given both before and after the command name: give it once`);
        outcome.flags[flagName] = before.flags[flagName];
      }
    }
  }
  const declaredArgs = Object.entries(decl.args ?? {});
  const required = declaredArgs.filter(([, a]) => a.required === true).length;
  const code = decl.errorExitCode ?? 1;
  if (outcome.positionals.length < required) {
    throw new UsageError(`'mini-docker ${name}' requires at least ${required} argument${required === 1 ? '' : 's'}${decl.usage ? `: ${decl.usage}` : ''}`, code);
  }
  if (!decl.variadic && !decl.stopAtFirstArg && outcome.positionals.length > declaredArgs.length) {
    const n = declaredArgs.length;
    throw new UsageError(n === 0 ? `'mini-docker ${name}' accepts no arguments` : `'mini-docker ${name}' accepts at most ${n} argument${n === 1 ? '' : 's'}`, code);
  }
  const args: Record<string, string | undefined> = {};
  declaredArgs.forEach(([argName], index) => { args[argName] = outcome.positionals[index]; });
  return { flags: outcome.flags as DeclaredInput['flags'], args, argv: outcome.positionals };
}

/** How a declared command is being run. */
export interface RunOptions {
  /** The command as typed (`container prune`). */
  readonly commandName?: string;
  /** The CLI's version when the caller knows it (oclif's config). */
  readonly version?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** How the process ends on `ctx.exit` (process.exit). */
  readonly exit?: (code: number) => void;
  /** The global flags given before the command name (parseCommand); default: what cli/entry.ts left for oclif's run. */
  readonly globalArgs?: readonly string[];
}

function readVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * Parses and runs a declared command, then sets process.exitCode; `ctx.exit(n)` ends the process
 * with n at once, as oclif's `this.exit` did. Returns what `run` returned.
 */
export async function runDeclaration(decl: CommandDeclaration, argv: readonly string[], options: RunOptions = {}): Promise<unknown> {
  const name = options.commandName ?? '';
  const env = options.env ?? process.env;
  const exitNow = options.exit ?? ((code: number) => process.exit(code));
  const errorExitCode = decl.errorExitCode ?? 1;
  let input: ReturnType<typeof parseCommand>;
  try {
    input = parseCommand(decl, argv, name, options.globalArgs ?? globalArgsOfProcess());
  } catch (err) {
    const code = err instanceof UsageError ? err.exitCode : 125;
    process.stderr.write(`Error: ${oneLine((err as Error).message)} (see 'mini-docker ${name} --help')\n`);
    process.exitCode = code;
    return undefined;
  }
  if (input === 'help') {
    const { run } = await loadOclif();
    await run([...name.split(' '), '--help'], packageRoot());
    return undefined;
  }
  const flags = input.flags as Record<string, unknown>;
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const jsonEnabled = decl.json === true && flags.json === true;
  let client: DaemonClient | undefined;
  let paths: ClientPaths | undefined;
  const resolvePaths = (): ClientPaths => {
    paths ??= resolveClientPaths(str(flags.host), env, {
      tls: flags.tls === true, tlsverify: flags.tlsverify === true,
      tlscacert: str(flags.tlscacert), tlscert: str(flags.tlscert), tlskey: str(flags.tlskey),
    });
    return paths;
  };
  let version = options.version;
  const ctx: CommandContext = {
    name,
    get client(): DaemonClient {
      if (!client) {
        const p = resolvePaths();
        // the autostart code (child_process, crypto, the lock) loads only when nothing answers
        client = new DaemonClient(p.connection, async (c) => (await import('./daemon-autostart.js')).ensureDaemon(p, env)(c));
      }
      return client;
    },
    get paths(): ClientPaths {
      return resolvePaths();
    },
    jsonEnabled,
    get version(): string {
      version ??= readVersion();
      return version;
    },
    out: (line) => {
      if (!jsonEnabled) process.stdout.write(`${line}\n`);
    },
    err: (line) => {
      process.stderr.write(`${line}\n`);
    },
    warn: (message) => {
      if (!jsonEnabled) process.stderr.write(`Warning: ${message}\n`);
    },
    exit: (code) => {
      throw new ExitSignal(code);
    },
  };
  let exitCode: number | undefined;
  let result: unknown;
  try {
    result = await decl.run(ctx, input);
    if (jsonEnabled && result !== undefined) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } catch (err) {
    if (err instanceof ExitSignal) {
      exitCode = err.code;
    } else {
      const e = err instanceof Error ? err : new Error(String(err));
      const code = err instanceof CliError || err instanceof UsageError ? err.exitCode : err instanceof DaemonError ? err.exitCode ?? errorExitCode : errorExitCode;
      if (jsonEnabled) {
        process.stdout.write(`${JSON.stringify({ error: { ...e, message: e.message, name: e.name } }, null, 2)}\n`);
      } else {
        const hint = err instanceof UsageError ? ` (see 'mini-docker ${name} --help')` : '';
        process.stderr.write(`${errorLine(e)}${hint}\n`);
        if (env.DEBUG === '1' && e.stack) process.stderr.write(`${e.stack}\n`);
      }
      process.exitCode = code;
    }
  } finally {
    client?.close();
  }
  if (exitCode !== undefined) exitNow(exitCode);
  return result;
}

/**
 * Runs the parser over each command once, for the CLI bundle's code cache (cli/launcher.cts): V8
 * then has the parser and the runtime compiled in the cache. Prints nothing, contacts nothing.
 */
export function warmUp(commands: readonly CommandDeclaration[]): void {
  for (const decl of commands) {
    for (const [argv, globalArgs] of [[[], []], [['--bogus'], []], [['-H', 'unix:///x', 'a', 'b'], []], [['a'], ['--host=unix:///x']]] as const) {
      try {
        parseCommand(decl, argv, 'warm', globalArgs);
      } catch {
        // refusals are part of what is warmed
      }
    }
  }
}
