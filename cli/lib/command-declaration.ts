/**
 * One declaration per command and per flag: the format every built-in command uses.
 *
 * A command file default-exports `defineCommand({...})`:
 *
 * ```ts
 * import { arg, defineCommand, flag } from '../lib/command-declaration.js';
 *
 * export default defineCommand({
 *   summary: 'Stop one or more running containers.',
 *   description: '…',                              // optional, shown by --help
 *   examples: ['<%= config.bin %> stop web'],        // run through the parser by the unit tests
 *   flags: {                                         // key = docker's long name
 *     time: flag.integer({ char: 't', summary: 'Seconds to wait before killing it.' }),
 *     signal: flag.string({ char: 's', summary: 'Signal to send.' }),
 *     all: flag.boolean({ char: 'a', summary: 'Show all.' }),                      // false unless given
 *     env: flag.string({ char: 'e', summary: 'NAME=value; repeatable.', multiple: true }), // string[] ([] when absent)
 *     pull: flag.string({ summary: '…', options: ['missing', 'always'], default: 'missing' }),
 *   },
 *   args: { container: arg({ required: true, description: 'Container names or ids.' }) },
 *   variadic: true,           // more positionals than `args` names (all of them in `argv`)
 *   stopAtFirstArg: true,     // docker's SetInterspersed(false): flags end at the first positional (run, exec)
 *   json: true,               // adds --json: the value `run` returns is printed as JSON instead of the output
 *   errorExitCode: 125,       // exit code of the command's own failures (default 1)
 *   usage: 'CONTAINER [CONTAINER...]',  // said by "requires at least N argument(s): USAGE"
 *   async run(ctx, { flags, args, argv }) { … ctx.client, ctx.out(line), ctx.err(line), ctx.exit(code) … },
 * });
 * ```
 *
 * Compared with oclif's `Flags.string({...})` a declaration is `flag.string({...})` with the same
 * option names (char, summary, description, default, multiple, options, helpGroup, hidden, allowNo,
 * aliases: other long names the parser takes for the flag, as docker's hidden `--net` for `--network`);
 * `multipleNonGreedy` and `ignoreStdin` go (they are always so). The global flags (-H, --tls…) are
 * declared once below and belong to every command.
 *
 * `defineCommand` returns a class oclif loads like any command (its static summary, flags, args and
 * examples make the help, the topics and oclif.manifest.json), whose static `run` parses with the
 * one parser (argv-parser.ts) and runs the declaration (command-runtime.ts). cli/entry.ts runs the
 * same declaration without loading oclif at all. This module and the parser import nothing of oclif.
 */
import type { CommandContext } from './command-runtime.js';

declare const valueType: unique symbol;

/** A declared flag, with the type of its parsed value as a phantom. Its fields are oclif's (help, manifest). */
export interface FlagDeclaration<T> {
  readonly type: 'boolean' | 'option';
  /** How the parser reads the value. */
  readonly kind: 'boolean' | 'string' | 'integer';
  readonly char?: string;
  readonly summary?: string;
  readonly description?: string;
  readonly helpGroup?: string;
  readonly hidden?: boolean;
  /** Other long names for the same flag, not shown in help (docker's hidden spellings: `--net` for `--network`). */
  readonly aliases?: readonly string[];
  /** Booleans: `--no-NAME` sets false (docker spells it `--NAME=false`, which works too). */
  readonly allowNo?: boolean;
  readonly multiple?: boolean;
  readonly options?: readonly string[];
  readonly default?: string | number | boolean;
  /** Integers: the smallest and largest value taken. */
  readonly min?: number;
  readonly max?: number;
  readonly [valueType]?: T;
}

/** Any declared flag. */
export type AnyFlag = FlagDeclaration<unknown>;

/** A declared positional argument (a name for help and for `args`). */
export interface ArgDeclaration {
  readonly description?: string;
  readonly required?: boolean;
  readonly hidden?: boolean;
}

interface Common {
  readonly char?: string;
  readonly summary?: string;
  readonly description?: string;
  readonly helpGroup?: string;
  readonly hidden?: boolean;
  readonly aliases?: readonly string[];
}
interface StringOptions extends Common {
  readonly multiple?: boolean;
  readonly options?: readonly string[];
  readonly default?: string;
}
interface IntegerOptions extends Common {
  readonly default?: number;
  readonly min?: number;
  readonly max?: number;
}

function string(options: StringOptions & { readonly multiple: true }): FlagDeclaration<string[]>;
function string(options: StringOptions & { readonly default: string }): FlagDeclaration<string>;
function string(options: StringOptions): FlagDeclaration<string | undefined>;
function string(options: StringOptions): FlagDeclaration<unknown> {
  return { ...options, type: 'option', kind: 'string', multiple: options.multiple === true };
}

function integer(options: IntegerOptions & { readonly default: number }): FlagDeclaration<number>;
function integer(options: IntegerOptions): FlagDeclaration<number | undefined>;
function integer(options: IntegerOptions): FlagDeclaration<unknown> {
  return { ...options, type: 'option', kind: 'integer', multiple: false };
}

function boolean(options: Common & { readonly default?: boolean; readonly allowNo?: boolean }): FlagDeclaration<boolean> {
  return { ...options, type: 'boolean', kind: 'boolean' };
}

/** The flag builders: `flag.boolean`, `flag.string`, `flag.integer`. */
export const flag = { boolean, string, integer };

/** A positional argument; a required one is a `string` in `args`, others `string | undefined`. */
export function arg<const O extends ArgDeclaration>(options: O = {} as O): O {
  return options;
}

/**
 * The flags every command takes: where the daemon is and how to reach it; after the command name,
 * or before it as the docker client takes them (cli/global-args.cts splitGlobalArgs). Given on both
 * sides, a flag is refused (command-runtime.ts).
 */
export const globalFlags = {
  host: flag.string({
    char: 'H',
    summary: 'Daemon socket to connect to (unix:///path).',
    description: 'Defaults to $MINI_DOCKER_HOST, else <exec root>/mini-docker.sock with the exec root from $MINI_DOCKER_EXEC_ROOT or /run/mini-docker.',
    helpGroup: 'GLOBAL',
  }),
  tls: flag.boolean({ summary: 'Use TLS to reach a tcp:// daemon; implied by --tlsverify.', helpGroup: 'GLOBAL' }),
  tlsverify: flag.boolean({ summary: 'Use TLS and verify the daemon (env DOCKER_TLS_VERIFY).', helpGroup: 'GLOBAL' }),
  tlscacert: flag.string({ summary: 'Trust certs signed only by this CA (default $DOCKER_CERT_PATH/ca.pem, else ~/.docker/ca.pem).', helpGroup: 'GLOBAL' }),
  tlscert: flag.string({ summary: 'Path to the TLS certificate file (default …/cert.pem).', helpGroup: 'GLOBAL' }),
  tlskey: flag.string({ summary: 'Path to the TLS key file (default …/key.pem).', helpGroup: 'GLOBAL' }),
};

/**
 * The global flags that only set the CLI's environment, read before the command name only, as the
 * docker client reads them (cli/entry.ts): -D sets DEBUG=1 (a failing command prints its stack
 * trace, and a daemon the CLI starts inherits it), as docker's -D does; `-l debug` does the same,
 * the other levels change nothing (the CLI writes no log lines, its warnings are output); --config
 * sets DOCKER_CONFIG (where login keeps credentials and pull and push read them).
 */
export const environmentFlags = {
  debug: flag.boolean({ char: 'D', summary: 'Enable debug mode: a failing command prints its stack trace (sets DEBUG=1).' }),
  'log-level': flag.string({ char: 'l', summary: 'Set the logging level (trace, debug, info, warn, error, fatal, panic; any case); debug and trace are -D, the others change nothing.' }),
  config: flag.string({ summary: 'Location of client config files (sets DOCKER_CONFIG; default ~/.docker).' }),
};

/** `--json` of the commands declared with `json: true` (oclif's enableJsonFlag). */
export const jsonFlag = { json: flag.boolean({ summary: 'Format output as json.', helpGroup: 'GLOBAL' }) };

/** Parsed values of declared flags. */
export type FlagValues<F> = { -readonly [K in keyof F]: F[K] extends FlagDeclaration<infer T> ? T : never };

/** What `run` receives. */
export interface ParsedInput<F, A> {
  /** The command's own flags, and the global ones. */
  readonly flags: FlagValues<F> & FlagValues<typeof globalFlags>;
  /** The positionals by their declared names (undefined when not given). */
  readonly args: { readonly [K in keyof A]: A[K] extends { readonly required: true } ? string : string | undefined };
  /** All the positionals, in order; with `stopAtFirstArg`, the first one then everything after it. */
  readonly argv: readonly string[];
}

/** One command, declared once. */
export interface CommandDeclaration<F extends Readonly<Record<string, AnyFlag>> = Readonly<Record<string, AnyFlag>>, A extends Readonly<Record<string, ArgDeclaration>> = Readonly<Record<string, ArgDeclaration>>> {
  readonly summary: string;
  readonly description?: string;
  readonly examples?: readonly (string | { readonly description: string; readonly command: string })[];
  readonly flags?: F;
  readonly args?: A;
  readonly variadic?: boolean;
  readonly stopAtFirstArg?: boolean;
  readonly json?: boolean;
  readonly errorExitCode?: number;
  readonly usage?: string;
  readonly hidden?: boolean;
  run(ctx: CommandContext, input: ParsedInput<F, A>): Promise<unknown>;
}

/** Every flag a command takes: its own, the global ones, --json when declared. */
export function allFlags(decl: CommandDeclaration): Readonly<Record<string, AnyFlag>> {
  return { ...decl.flags, ...globalFlags, ...(decl.json ? jsonFlag : {}) };
}

/** Where a declared command class keeps its declaration (not enumerable: oclif's manifest leaves it out). */
export const DECLARATION = 'declaration';

/** oclif's view of a command class: static fields for help and the manifest, and a static run. */
export interface DeclaredCommandClass {
  readonly declaration: CommandDeclaration;
  run(argv?: string[], config?: { readonly version?: string; readonly bin?: string } | string): Promise<unknown>;
}

/**
 * The command class oclif loads: the declaration's help fields as oclif's static properties (so
 * `--help`, topics and the manifest come from the one declaration), and a static `run` that takes
 * the command's argv as oclif passes it and runs the declaration with the one parser.
 */
export function defineCommand<F extends Readonly<Record<string, AnyFlag>>, A extends Readonly<Record<string, ArgDeclaration>>>(
  decl: CommandDeclaration<F, A> & { readonly flags?: F; readonly args?: A },
): DeclaredCommandClass {
  const declaration = decl as unknown as CommandDeclaration;
  class DeclaredCommand {
    static summary = decl.summary;
    static description = decl.description;
    static examples = decl.examples;
    static flags = { ...decl.flags };
    static baseFlags = globalFlags;
    static enableJsonFlag = decl.json === true;
    static args = { ...decl.args };
    static strict = !(decl.variadic === true || decl.stopAtFirstArg === true);
    static hidden = decl.hidden;
    static declaration: CommandDeclaration;

    static async run(argv: string[] = process.argv.slice(3), config?: { readonly version?: string; readonly bin?: string } | string): Promise<unknown> {
      const { runDeclaration } = await import('./command-runtime.js');
      const version = typeof config === 'object' ? config.version : undefined;
      return runDeclaration(declaration, argv, { commandName: commandNameOf(DeclaredCommand), ...(version !== undefined ? { version } : {}) });
    }
  }
  Object.defineProperty(DeclaredCommand, DECLARATION, { value: declaration, enumerable: false });
  return DeclaredCommand;
}

/** The command's name as the user types it (`container prune`), from the id oclif gives the class. */
function commandNameOf(cls: unknown): string | undefined {
  const id = (cls as { id?: unknown }).id;
  return typeof id === 'string' ? id.replace(/:/g, ' ') : undefined;
}

/** The declaration of a loaded command module's default export, when it is a declared command. */
export function declarationOf(exported: unknown): CommandDeclaration | undefined {
  if (typeof exported !== 'function') return undefined;
  const d = (exported as { [DECLARATION]?: unknown })[DECLARATION];
  return typeof d === 'object' && d !== null ? (d as CommandDeclaration) : undefined;
}
