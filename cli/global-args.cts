/**
 * The global flags before the command name, as the docker client reads them (`mini-docker -H
 * unix:///x.sock ps`): where argv's command starts, for cli/launcher.cts (which bundle runs) and
 * cli/entry.ts (what the command is given). A module of its own, CommonJS as the launcher, which
 * requires it only for argv that starts with a flag: a command typed first neither reads nor
 * compiles it (about 0.3 ms of CPU when it was part of the launcher).
 */

/**
 * The global flags read before the command name, as the docker client reads them (`mini-docker -H
 * unix:///x.sock ps`): by long name, whether each takes a value. -H, --tls… say where the daemon is
 * (the command's parser takes them, command-runtime.ts); -D, -l and --config set the environment
 * (cli/entry.ts).
 */
export const GLOBAL_FLAGS: Readonly<Record<string, 'value' | 'boolean'>> = {
  host: 'value', tls: 'boolean', tlsverify: 'boolean', tlscacert: 'value', tlscert: 'value', tlskey: 'value',
  debug: 'boolean', 'log-level': 'value', config: 'value',
};

/** The global flags' short names. */
export const GLOBAL_SHORT_FLAGS: Readonly<Record<string, string>> = { H: 'host', D: 'debug', l: 'log-level' };

/**
 * argv split at the command name: the global flags before it, each written `--name=value` (or
 * `--name`, `--name=false` for a boolean) so that no command's own short name can take it
 * (`history -H` is --human), and the rest, from the command name on. `--help`/`-h` and
 * `--version`/`-v` end the global flags as a command name does (the rest starts with `--help` or
 * `--version`); `--` ends them and is dropped. Errors in the docker client's words.
 */
export type GlobalSplit =
  | { readonly kind: 'split'; readonly globals: readonly string[]; readonly rest: readonly string[] }
  | { readonly kind: 'error'; readonly message: string };

export function splitGlobalArgs(args: readonly string[]): GlobalSplit {
  const globals: string[] = [];
  let i = 0;
  while (i < args.length) {
    const token = args[i]!;
    if (token === '--') return { kind: 'split', globals, rest: args.slice(i + 1) };
    if (token === '--help' || token === '-h') return { kind: 'split', globals, rest: ['--help', ...args.slice(i + 1)] };
    if (token === '--version' || token === '-v') return { kind: 'split', globals, rest: ['--version', ...args.slice(i + 1)] };
    if (!token.startsWith('-') || token === '-') break;
    i += 1;
    if (token.startsWith('--')) {
      const eq = token.indexOf('=');
      const name = token.slice(2, eq === -1 ? undefined : eq);
      const kind = Object.hasOwn(GLOBAL_FLAGS, name) ? GLOBAL_FLAGS[name] : undefined;
      if (kind === undefined) return { kind: 'error', message: `unknown flag: --${name}` };
      if (kind === 'boolean' || eq !== -1) {
        globals.push(token);
        continue;
      }
      if (i >= args.length) return { kind: 'error', message: `flag needs an argument: --${name}` };
      globals.push(`--${name}=${args[i]!}`);
      i += 1;
      continue;
    }
    // a group of short names: booleans first, a flag with a value last or with its value attached (-Dl debug, -Hunix:///x)
    for (let j = 1; j < token.length; j++) {
      const c = token[j]!;
      const name = Object.hasOwn(GLOBAL_SHORT_FLAGS, c) ? GLOBAL_SHORT_FLAGS[c]! : undefined;
      if (name === undefined) return { kind: 'error', message: `unknown shorthand flag: '${c}' in -${token.slice(j)}` };
      if (GLOBAL_FLAGS[name] === 'boolean') {
        if (token[j + 1] === '=') {
          globals.push(`--${name}=${token.slice(j + 2)}`);
          break;
        }
        globals.push(`--${name}`);
        continue;
      }
      let value = token.slice(j + 1);
      if (value.startsWith('=')) value = value.slice(1);
      else if (value === '') {
        if (i >= args.length) return { kind: 'error', message: `flag needs an argument: '${c}' in -${token.slice(j)}` };
        value = args[i]!;
        i += 1;
      }
      globals.push(`--${name}=${value}`);
      break;
    }
  }
  return { kind: 'split', globals, rest: args.slice(i) };
}

/** The one line of a refused global flag, and its exit code (125, the docker client's for a flag error). */
export function globalFlagError(message: string): string {
  return `Error: ${message} (see 'mini-docker --help')`;
}
