import { Command, Flags } from '@oclif/core';
import type { Interfaces } from '@oclif/core';
import type { FlagShape, SplitArgv } from './argv-split.js';
import { splitAtPositional } from './argv-split.js';
import { ensureDaemon } from './daemon-autostart.js';
import { DaemonClient } from './daemon-client.js';
import { CliError } from './errors.js';
import type { ClientPaths } from './paths.js';
import type { TlsFlags } from './connection.js';
import { resolveClientPaths } from './paths.js';

/** oclif's parsed flags or args (its own FlagOutput type is not exported). */
type ParsedValues = { [name: string]: unknown };

/** oclif's exit signal (`this.exit(n)`): passed through untouched. */
function isExitSignal(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'EEXIT';
}

/** A flag or argument error from oclif's parser (those carry the parse input). */
function isParseError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'parse' in err;
}

/** Squeezes a message onto one line (oclif's parse errors span several). */
export function oneLine(message: string): string {
  return message.split('\n').map((l) => l.trim()).filter((l) => l !== '').join(' ').replace(/\s+/g, ' ');
}

/**
 * What every mini-docker command shares: the global `-H/--host` flag, a daemon client that
 * connects (and starts the daemon) on first use, and errors printed as one `Error: …` line with
 * the right exit code (stack traces only with DEBUG=1).
 *
 * Every argument is declared with `ignoreStdin: true`: oclif otherwise reads a missing argument
 * from piped stdin, which would swallow the input of `exec -i`, `run -i` and `import -`.
 */
export abstract class BaseCommand extends Command {
  static override baseFlags = {
    host: Flags.string({
      char: 'H',
      summary: 'Daemon socket to connect to (unix:///path).',
      description: 'Defaults to $MINI_DOCKER_HOST, else <exec root>/mini-docker.sock with the exec root from $MINI_DOCKER_EXEC_ROOT or /run/mini-docker.',
      helpGroup: 'GLOBAL',
    }),
    tls: Flags.boolean({ summary: 'Use TLS to reach a tcp:// daemon; implied by --tlsverify.', helpGroup: 'GLOBAL' }),
    tlsverify: Flags.boolean({ summary: 'Use TLS and verify the daemon (env DOCKER_TLS_VERIFY).', helpGroup: 'GLOBAL' }),
    tlscacert: Flags.string({ summary: 'Trust certs signed only by this CA (default $DOCKER_CERT_PATH/ca.pem, else ~/.docker/ca.pem).', helpGroup: 'GLOBAL' }),
    tlscert: Flags.string({ summary: 'Path to the TLS certificate file (default …/cert.pem).', helpGroup: 'GLOBAL' }),
    tlskey: Flags.string({ summary: 'Path to the TLS key file (default …/key.pem).', helpGroup: 'GLOBAL' }),
  };

  /** Exit code for failures that are not a container's own: 1, and 125 for run and create (like docker). */
  protected errorExitCode = 1;

  private hostFlag: string | undefined;
  private tlsFlags: TlsFlags = {};
  private clientInstance: DaemonClient | undefined;

  /** Parses like oclif, and remembers `--host` for the client. */
  protected override async parse<F extends ParsedValues, B extends ParsedValues, A extends ParsedValues>(
    options?: Interfaces.Input<F, B, A>,
    argv?: string[],
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    const out = await super.parse(options, argv);
    const flags: Record<string, unknown> = out.flags;
    if (typeof flags.host === 'string') this.hostFlag = flags.host;
    const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
    this.tlsFlags = {
      tls: flags.tls === true, tlsverify: flags.tlsverify === true,
      tlscacert: str(flags.tlscacert), tlscert: str(flags.tlscert), tlskey: str(flags.tlskey),
    };
    return out;
  }

  /**
   * For `IMAGE [--] CMD...` commands (run, create, exec): cuts argv at the first positional so
   * flags after it belong to the command in the container. Bad flags before it exit like parse errors.
   */
  protected splitArgv(): SplitArgv {
    const declared: Record<string, FlagShape> = { ...this.ctor.baseFlags, ...this.ctor.flags };
    try {
      return splitAtPositional(this.argv, declared);
    } catch (err) {
      throw new CliError(`${(err as Error).message} (see 'mini-docker ${this.id?.replace(/:/g, ' ') ?? ''} --help')`, 125);
    }
  }

  /** Socket, exec root and data root as resolved from --host and the environment. */
  protected get paths(): ClientPaths {
    return resolveClientPaths(this.hostFlag, process.env, this.tlsFlags);
  }

  /** The daemon client; the first request pings the socket and starts the daemon if needed. */
  protected get client(): DaemonClient {
    if (!this.clientInstance) {
      const paths = this.paths;
      this.clientInstance = new DaemonClient(paths.connection, ensureDaemon(paths));
    }
    return this.clientInstance;
  }

  /** Writes a line to stdout (unless --json is on: then only the returned data is printed). */
  protected out(line: string): void {
    if (!this.jsonEnabled()) process.stdout.write(`${line}\n`);
  }

  /** Writes a line to stderr. */
  protected err(line: string): void {
    process.stderr.write(`${line}\n`);
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    this.clientInstance?.close();
    return super.finally(err);
  }

  /** One line `Error: <message>`, exit code from the error (CliError), else the command's. */
  protected override async catch(err: Interfaces.CommandError): Promise<unknown> {
    if (isExitSignal(err)) throw err;
    if (this.jsonEnabled()) return super.catch(err);
    const parseError = isParseError(err);
    const command = `mini-docker ${this.id?.replace(/:/g, ' ') ?? ''}`;
    let message = oneLine(err.message || String(err));
    const helpHint = / ?See more help with --help$/;
    const usageError = parseError || helpHint.test(message) || /^Flag --?\S+ expects a value/.test(message);
    let code = err instanceof CliError ? err.exitCode : usageError ? 125 : this.errorExitCode;
    if (usageError) {
      const usage = dockerUsage(message.replace(helpHint, ''), command);
      message = `${usage.message} (see '${command} --help')`;
      code = usage.code;
    }
    process.stderr.write(`Error: ${message}\n`);
    if (process.env.DEBUG === '1' && err.stack) process.stderr.write(`${err.stack}\n`);
    this.exit(code);
  }
}

/**
 * oclif's parse errors in the docker CLI's words and exit codes: a flag error is 125
 * ("unknown flag: --x", "flag needs an argument: --x"), missing arguments are 1
 * ("'mini-docker stop' requires at least 1 argument"); oclif's notes about multiple-value flags go.
 */
export function dockerUsage(message: string, command: string): { message: string; code: number } {
  const text = message.replace(/ ?Note: .*$/, '').trim();
  let m = /^Nonexistent flags?: (.+)$/.exec(text);
  if (m) return { message: `unknown flag: ${m[1]}`, code: 125 };
  m = /^Flag (--?\S+) expects a value/.exec(text);
  if (m) return { message: `flag needs an argument: ${m[1]}`, code: 125 };
  m = /^Missing (\d+) required args?/.exec(text);
  if (m) return { message: `'${command}' requires at least ${m[1]} argument${m[1] === '1' ? '' : 's'}`, code: 1 };
  return { message: text, code: 125 };
}
