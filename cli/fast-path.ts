/**
 * The CLI's fast path: the commands that scripts and benchmarks run over and over (`ps`,
 * `run -d`, `exec`, `stop`, `logs`), in their plain forms, without loading oclif. Loading @oclif/core
 * costs about 90 ms of CPU on the development machines, more than the rest of such a command
 * (node's own start, the requests, the daemon's work) together; docs/benchmarks.md has figures.
 *
 * Each handler does exactly what its oclif command does (cli/commands/<name>.ts), through the same
 * cli/lib functions. Anything the fast path does not recognise (another flag, a flag after an
 * argument, --help, -H, a value it would have to validate) is left to oclif, which parses and
 * reports errors as always: `tryFastPath` then returns false. MINI_DOCKER_NO_FAST_PATH=1 turns it off.
 */
import type { ContainerSummary, ExecInspect } from './lib/api-types.js';
import type { CreateFlagValues } from './lib/create-body.js';
import { ensureDaemon } from './lib/daemon-autostart.js';
import { DaemonClient } from './lib/daemon-client.js';
import { CliError } from './lib/errors.js';
import { resolveClientPaths } from './lib/paths.js';

// Each handler imports what only it needs when it runs: every module loaded is start-up time.

type FlagType = 'boolean' | 'string' | 'integer';
interface FlagSpec {
  readonly type: FlagType;
  readonly char?: string;
  readonly multiple?: boolean;
}
type FlagValues = Record<string, boolean | string | number | string[]>;

/** What `parseSimple` makes of argv: flags (before the first argument), the arguments. */
export interface SimpleArgv {
  readonly flags: FlagValues;
  readonly args: string[];
}

/**
 * Parses argv for the fast path: flags first (`-a`, `-aq`, `-t 5`, `--time 5`, `--time=5`,
 * repeatable `-e X`), then arguments; with `commandAfter`, everything after the first argument is
 * the command (a leading `--` dropped), as `IMAGE [--] CMD...`. Returns null as soon as anything
 * is unknown or unusual, so that oclif handles it.
 */
export function parseSimple(argv: readonly string[], spec: Readonly<Record<string, FlagSpec>>, commandAfter: boolean): SimpleArgv | null {
  const byChar = new Map<string, string>();
  for (const [name, s] of Object.entries(spec)) if (s.char) byChar.set(s.char, name);
  const flags: FlagValues = {};
  const set = (name: string, raw: string | true): boolean => {
    const s = spec[name]!;
    let value: boolean | string | number;
    if (s.type === 'boolean') {
      if (raw !== true) return false;
      value = true;
    } else {
      if (raw === true) return false;
      if (s.type === 'integer') {
        if (!/^-?\d+$/.test(raw)) return false;
        value = Number(raw);
      } else {
        value = raw;
      }
    }
    if (s.multiple) flags[name] = [...((flags[name] as string[] | undefined) ?? []), String(value)];
    else if (name in flags) return false; // given twice: oclif's rules decide
    else flags[name] = value;
    return true;
  };
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--' || arg === '-' || !arg.startsWith('-')) break;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq === -1 ? undefined : eq);
      const s = spec[name];
      if (!s) return null;
      if (s.type === 'boolean') {
        if (eq !== -1 || !set(name, true)) return null;
      } else if (eq !== -1) {
        if (!set(name, arg.slice(eq + 1))) return null;
      } else {
        if (i + 1 >= argv.length || !set(name, argv[i + 1]!)) return null;
        i++;
      }
      continue;
    }
    const chars = arg.slice(1);
    for (let j = 0; j < chars.length; j++) {
      const name = byChar.get(chars[j]!);
      if (!name) return null;
      if (spec[name]!.type === 'boolean') {
        if (!set(name, true)) return null;
      } else {
        // An option only as the last letter of its group, its value the next word.
        if (j !== chars.length - 1 || i + 1 >= argv.length || !set(name, argv[i + 1]!)) return null;
        i++;
      }
    }
  }
  const rest = argv.slice(i);
  if (!commandAfter) {
    if (rest.some((a) => a.startsWith('-'))) return null; // flags after arguments: oclif's rules
    return { flags, args: [...rest] };
  }
  if (rest[0] === '--') return null;
  const [first, ...command] = rest;
  if (first === undefined) return null;
  return { flags, args: [first, ...(command[0] === '--' ? command.slice(1) : command)] };
}

const PS: Record<string, FlagSpec> = { all: { type: 'boolean', char: 'a' }, quiet: { type: 'boolean', char: 'q' }, 'no-trunc': { type: 'boolean' } };
const STOP: Record<string, FlagSpec> = { time: { type: 'integer', char: 't' }, signal: { type: 'string', char: 's' } };
const RUN: Record<string, FlagSpec> = {
  detach: { type: 'boolean', char: 'd' }, name: { type: 'string' }, env: { type: 'string', char: 'e', multiple: true }, rm: { type: 'boolean' },
};
const LOGS: Record<string, FlagSpec> = {
  follow: { type: 'boolean', char: 'f' }, tail: { type: 'string', char: 'n' }, timestamps: { type: 'boolean', char: 't' }, details: { type: 'boolean' },
};
const EXEC: Record<string, FlagSpec> = {
  interactive: { type: 'boolean', char: 'i' }, tty: { type: 'boolean', char: 't' }, detach: { type: 'boolean', char: 'd' },
  env: { type: 'string', char: 'e', multiple: true }, workdir: { type: 'string', char: 'w' }, user: { type: 'string', char: 'u' },
};

interface Io {
  readonly client: DaemonClient;
  out(line: string): void;
  err(line: string): void;
}

/** A fast command: its exit code. */
type Handler = (io: Io, parsed: SimpleArgv) => Promise<number>;

const handlers: Record<string, { spec: Record<string, FlagSpec>; commandAfter: boolean; errorExitCode: number; accepts?: (p: SimpleArgv) => boolean; run: Handler }> = {
  ps: {
    spec: PS, commandAfter: false, errorExitCode: 1,
    accepts: (p) => p.args.length === 0,
    run: async ({ client }, { flags }) => {
      const { renderPs } = await import('./lib/ps-view.js');
      const containers = await client.json<ContainerSummary[]>('GET', '/containers/json', { query: { all: flags.all === true || undefined } });
      process.stdout.write(renderPs(containers, { quiet: flags.quiet === true, noTrunc: flags['no-trunc'] === true, now: Date.now() }));
      return 0;
    },
  },
  stop: {
    spec: STOP, commandAfter: false, errorExitCode: 1,
    accepts: (p) => p.args.length > 0,
    run: async ({ client, out, err }, { flags, args }) => {
      const { containerPath, forEachRef } = await import('./lib/container-ops.js');
      return forEachRef(args, async (ref) => {
        await client.call('POST', containerPath(ref, '/stop'), { query: { t: flags.time as number | undefined, signal: flags.signal as string | undefined } });
        return ref;
      }, { out, err });
    },
  },
  run: {
    spec: RUN, commandAfter: true, errorExitCode: 125,
    accepts: (p) => p.flags.detach === true,
    run: async ({ client, out, err }, { flags, args }) => {
      const [{ createBody }, { containerPath, createContainer, startContainer }, { consoleSize }] = await Promise.all([
        import('./lib/create-body.js'), import('./lib/container-ops.js'), import('./lib/terminal.js'),
      ]);
      const [image, ...cmd] = args;
      const values: CreateFlagValues = { interactive: false, tty: false, rm: flags.rm === true, env: (flags.env as string[] | undefined) ?? [], ...(flags.name !== undefined ? { name: flags.name as string } : {}) };
      const body = createBody({ image: image!, cmd, flags: values, detach: true, consoleSize: consoleSize(), exitCode: 125 });
      const id = await createContainer(client, body, values.name, err);
      // As cli/commands/run.ts: a wait before start, so a --rm container removed after a failed start is seen.
      const wait = await client.request('POST', containerPath(id, '/wait'), { query: { condition: 'next-exit' } });
      wait.on('error', () => undefined); // a daemon that dies now cuts it: the start's own error says so
      try {
        await startContainer(client, id);
      } finally {
        wait.destroy();
      }
      out(id);
      return 0;
    },
  },
  logs: {
    spec: LOGS, commandAfter: false, errorExitCode: 1,
    // A --tail oclif would refuse goes to oclif, which says why.
    accepts: (p) => p.args.length === 1 && (p.flags.tail === undefined || p.flags.tail === 'all' || /^-?\d+$/.test(String(p.flags.tail))),
    run: async ({ client }, { flags, args }) => {
      const { streamLogs } = await import('./lib/logs-stream.js');
      await streamLogs(client, args[0]!, {
        follow: flags.follow === true, tail: (flags.tail as string | undefined) ?? 'all', timestamps: flags.timestamps === true, details: flags.details === true,
      });
      return 0;
    },
  },
  exec: {
    spec: EXEC, commandAfter: true, errorExitCode: 1,
    accepts: (p) => p.args.length >= 2,
    run: async ({ client, err }, { flags, args }) => {
      const [{ streamWithTerminal }, { containerPath }, { environmentFrom }, { consoleSize, parseDetachKeys }] = await Promise.all([
        import('./lib/attach-session.js'), import('./lib/container-ops.js'), import('./lib/env-flags.js'), import('./lib/terminal.js'),
      ]);
      const [ref, ...cmd] = args as [string, ...string[]];
      const tty = flags.tty === true;
      const interactive = flags.interactive === true;
      const detach = flags.detach === true;
      let env: string[];
      try {
        env = environmentFrom([], (flags.env as string[] | undefined) ?? []);
      } catch (e) {
        throw new CliError((e as Error).message);
      }
      const size = consoleSize();
      const created = await client.json<{ Id: string }>('POST', containerPath(ref, '/exec'), {
        json: {
          User: (flags.user as string | undefined) ?? '', Privileged: false, Tty: tty, ConsoleSize: tty ? size : undefined,
          AttachStdin: interactive && !detach, AttachStdout: !detach, AttachStderr: !detach, Detach: detach, DetachKeys: '',
          Env: env.length > 0 ? env : null, WorkingDir: (flags.workdir as string | undefined) ?? '', Cmd: cmd,
        },
      });
      const execPath = `/exec/${encodeURIComponent(created.Id)}`;
      if (detach) {
        await client.call('POST', `${execPath}/start`, { json: { Detach: true, Tty: tty } });
        return 0;
      }
      const connection = await client.hijack('POST', `${execPath}/start`, { json: { Detach: false, Tty: tty, ConsoleSize: tty ? size : undefined } });
      const result = await streamWithTerminal({
        connection, tty, attachStdin: interactive,
        resize: (h, w) => client.call('POST', `${execPath}/resize`, { query: { h, w } }),
        detachKeys: parseDetachKeys('ctrl-p,ctrl-q'),
        warn: err,
      });
      if (result.detached) return 0;
      for (let attempt = 0; ; attempt++) {
        const info = await client.json<ExecInspect>('GET', `${execPath}/json`);
        if ((!info.Running && info.ExitCode !== null) || attempt >= 20) return info.ExitCode ?? 0;
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  },
};

/** One line, as BaseCommand.catch prints errors. */
function oneLine(message: string): string {
  return message.split('\n').map((l) => l.trim()).filter((l) => l !== '').join(' ').replace(/\s+/g, ' ');
}

/** Runs argv on the fast path if it can; false when oclif should run it. Sets process.exitCode. */
export async function tryFastPath(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (env.MINI_DOCKER_NO_FAST_PATH === '1' || argv.length === 0) return false;
  const handler = handlers[argv[0]!];
  if (!handler || !Object.hasOwn(handlers, argv[0]!)) return false;
  const parsed = parseSimple(argv.slice(1), handler.spec, handler.commandAfter);
  if (!parsed || (handler.accepts && !handler.accepts(parsed))) return false;
  let paths: ReturnType<typeof resolveClientPaths>;
  try {
    paths = resolveClientPaths(undefined, env);
  } catch (err) {
    process.stderr.write(`Error: ${oneLine((err as Error).message)}\n`);
    process.exitCode = err instanceof CliError ? err.exitCode : handler.errorExitCode;
    return true;
  }
  const client = new DaemonClient(paths.connection, ensureDaemon(paths, env));
  try {
    process.exitCode = await handler.run({
      client,
      out: (line) => process.stdout.write(`${line}\n`),
      err: (line) => process.stderr.write(`${line}\n`),
    }, parsed);
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    process.stderr.write(`Error: ${oneLine(e.message || String(err))}\n`);
    if (env.DEBUG === '1' && e.stack) process.stderr.write(`${e.stack}\n`);
    process.exitCode = err instanceof CliError ? err.exitCode : handler.errorExitCode;
  } finally {
    client.close();
  }
  return true;
}
