/**
 * The CLI's one argv parser, with the docker CLI's rules (spf13/pflag as docker configures it), for
 * every built-in command whether oclif loaded it or not:
 *
 * - `--name value`, `--name=value`, `-n value`, `-nvalue`, `-n=value`; booleans grouped (`-aq`), an
 *   option letter last in a group or with its value attached (`-it`, `-m2000m`); `--bool=false`, and
 *   `--no-bool` for booleans declared with allowNo;
 * - flags and positionals mixed (`rm web -f`), unless the command stops at its first positional
 *   (`run IMAGE CMD...`, `exec CONTAINER CMD...`): then everything after it is the command's, and
 *   one `--` right after it is dropped (the original project's `run IMAGE -- CMD`);
 * - `--` ends the flags; `-` alone is a positional; a flag given twice keeps the last value, a
 *   repeatable one keeps all of them;
 * - `--help` where a flag may be asks for the command's help (oclif prints it).
 *
 * The outcome also names the flags given (by their declared names), so the runtime can refuse a
 * global flag given both before and after the command name.
 *
 * Errors are UsageError in docker's words: `unknown flag: --x`, `unknown shorthand flag: 'x' in -x`,
 * `flag needs an argument: --x`, `invalid argument "v" for "-t, --time" flag: …`.
 */
import type { AnyFlag } from './command-declaration.js';

/** A command line the parser refuses: docker's words, exit code 125 like docker's flag errors. */
export class UsageError extends Error {
  constructor(message: string, readonly exitCode = 125) {
    super(message);
    this.name = 'UsageError';
  }
}

/** What the parser made of a command's argv. */
export type ParseOutcome =
  | { readonly kind: 'help' }
  | { readonly kind: 'parsed'; readonly flags: Record<string, unknown>; readonly positionals: string[]; readonly given: readonly string[] };

function flagLabel(name: string, decl: AnyFlag): string {
  return decl.char ? `-${decl.char}, --${name}` : `--${name}`;
}

/** A value as the flag's type, or a UsageError saying why not. */
function convert(name: string, decl: AnyFlag, raw: string): string | number {
  if (decl.kind === 'integer') {
    if (!/^[+-]?\d+$/.test(raw.trim())) throw new UsageError(`invalid argument "${raw}" for "${flagLabel(name, decl)}" flag: strconv.ParseInt: parsing "${raw}": invalid syntax`);
    const n = Number(raw);
    if ((decl.min !== undefined && n < decl.min) || (decl.max !== undefined && n > decl.max)) {
      throw new UsageError(`invalid argument "${raw}" for "${flagLabel(name, decl)}" flag: must be ${decl.min !== undefined ? `at least ${decl.min}` : ''}${decl.min !== undefined && decl.max !== undefined ? ' and ' : ''}${decl.max !== undefined ? `at most ${decl.max}` : ''}`);
    }
    return n;
  }
  if (decl.options && !decl.options.includes(raw)) {
    throw new UsageError(`invalid argument "${raw}" for "${flagLabel(name, decl)}" flag: must be one of ${decl.options.join(', ')}`);
  }
  return raw;
}

function booleanValue(name: string, decl: AnyFlag, raw: string): boolean {
  const v = raw.toLowerCase();
  if (['1', 't', 'true'].includes(v)) return true;
  if (['0', 'f', 'false'].includes(v)) return false;
  throw new UsageError(`invalid argument "${raw}" for "${flagLabel(name, decl)}" flag: strconv.ParseBool: parsing "${raw}": invalid syntax`);
}

/** The values of flags not given: booleans false, repeatable flags [], others their default. */
export function defaultValues(flags: Readonly<Record<string, AnyFlag>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, decl] of Object.entries(flags)) {
    if (decl.kind === 'boolean') out[name] = decl.default === true;
    else if (decl.multiple) out[name] = decl.default === undefined ? [] : [String(decl.default)];
    else if (decl.default !== undefined) out[name] = decl.default;
  }
  return out;
}

/**
 * Parses a command's argv (what follows the command's name) against its declared flags. When two
 * flags share a short name, the first declared keeps it: `allFlags` lists the command's own flags
 * before the global ones, so a command's own `-H` (history's --human) wins over the global
 * `-H, --host`, as in Docker; the global flag is then reached by its long name.
 */
export function parseArgv(flags: Readonly<Record<string, AnyFlag>>, argv: readonly string[], options: { readonly stopAtFirstArg?: boolean } = {}): ParseOutcome {
  const byChar = new Map<string, string>();
  const byAlias = new Map<string, string>();
  for (const [name, decl] of Object.entries(flags)) {
    if (decl.char && !byChar.has(decl.char)) byChar.set(decl.char, name);
    for (const alias of decl.aliases ?? []) byAlias.set(alias, name);
  }
  const values = defaultValues(flags);
  const given = new Set<string>();
  const set = (name: string, decl: AnyFlag, value: unknown): void => {
    if (decl.multiple) values[name] = given.has(name) ? [...(values[name] as unknown[]), value] : [value];
    else values[name] = value;
    given.add(name);
  };
  const positionals: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const token = argv[i]!;
    i += 1;
    if (token === '--') {
      positionals.push(...argv.slice(i));
      break;
    }
    if (token === '--help') return { kind: 'help' };
    if (token.startsWith('--')) {
      const eq = token.indexOf('=');
      const spelled = token.slice(2, eq === -1 ? undefined : eq);
      const name = Object.hasOwn(flags, spelled) ? spelled : (byAlias.get(spelled) ?? spelled);
      const inline = eq === -1 ? undefined : token.slice(eq + 1);
      const decl = Object.hasOwn(flags, name) ? flags[name] : undefined;
      if (!decl && name.startsWith('no-')) {
        const positive = Object.hasOwn(flags, name.slice(3)) ? flags[name.slice(3)] : undefined;
        if (positive?.kind === 'boolean' && positive.allowNo && inline === undefined) {
          set(name.slice(3), positive, false);
          continue;
        }
      }
      if (!decl) throw new UsageError(`unknown flag: --${name}`);
      if (decl.kind === 'boolean') {
        set(name, decl, inline === undefined ? true : booleanValue(name, decl, inline));
        continue;
      }
      let raw = inline;
      if (raw === undefined) {
        if (i >= argv.length) throw new UsageError(`flag needs an argument: --${name}`);
        raw = argv[i]!;
        i += 1;
      }
      set(name, decl, convert(name, decl, raw));
      continue;
    }
    if (token.startsWith('-') && token.length > 1) {
      for (let j = 1; j < token.length; j++) {
        const c = token[j]!;
        const name = byChar.get(c);
        const decl = name === undefined ? undefined : flags[name];
        if (name === undefined || !decl) throw new UsageError(`unknown shorthand flag: '${c}' in -${token.slice(j)}`);
        if (decl.kind === 'boolean') {
          if (token[j + 1] === '=') {
            set(name, decl, booleanValue(name, decl, token.slice(j + 2)));
            break;
          }
          set(name, decl, true);
          continue;
        }
        let raw = token.slice(j + 1);
        if (raw.startsWith('=')) raw = raw.slice(1);
        else if (raw === '') {
          if (i >= argv.length) throw new UsageError(`flag needs an argument: '${c}' in -${token.slice(j)}`);
          raw = argv[i]!;
          i += 1;
        }
        set(name, decl, convert(name, decl, raw));
        break;
      }
      continue;
    }
    positionals.push(token);
    if (options.stopAtFirstArg) {
      const rest = argv.slice(i);
      positionals.push(...(rest[0] === '--' ? rest.slice(1) : rest));
      break;
    }
  }
  return { kind: 'parsed', flags: values, positionals, given: [...given] };
}
