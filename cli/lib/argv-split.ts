/** The shape of a declared flag the splitter needs (an oclif flag definition fits). */
export interface FlagShape {
  readonly type: 'boolean' | 'option';
  readonly char?: string;
}

/** argv cut at the first positional argument: flags before it, the positional, what follows. */
export interface SplitArgv {
  /** Flag tokens as typed (for oclif's parser). */
  readonly flags: string[];
  /** The first positional (IMAGE for run/create, CONTAINER for exec); undefined when missing. */
  readonly positional: string | undefined;
  /** Everything after it, with a leading `--` dropped (the seed's `IMAGE -- CMD...`). */
  readonly rest: string[];
}

/**
 * Splits `[flags] POSITIONAL [--] ARGS...` the way docker does (flag parsing stops at the first
 * positional), so `run busybox ls -l` gives `-l` to ls, not to run. Unknown flags before the
 * positional are errors, with docker's wording.
 */
export function splitAtPositional(argv: readonly string[], declared: Readonly<Record<string, FlagShape>>): SplitArgv {
  const byChar = new Map<string, FlagShape>();
  for (const shape of Object.values(declared)) if (shape.char) byChar.set(shape.char, shape);
  const flags: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i]!;
    if (arg === '--') {
      return { flags, positional: argv[i + 1], rest: argv.slice(i + 2) };
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq === -1 ? undefined : eq);
      const shape = declared[name] ?? (name.startsWith('no-') ? declared[name.slice(3)] : undefined);
      if (!shape) throw new Error(`unknown flag: --${name}`);
      flags.push(arg);
      if (shape.type === 'option' && eq === -1) {
        if (i + 1 >= argv.length) throw new Error(`flag needs an argument: --${name}`);
        flags.push(argv[i + 1]!);
        i += 1;
      }
      i += 1;
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      flags.push(arg);
      for (let j = 1; j < arg.length; j++) {
        const c = arg[j]!;
        const shape = byChar.get(c);
        if (!shape) throw new Error(`unknown shorthand flag: '${c}' in ${arg}`);
        if (shape.type === 'option') {
          if (j === arg.length - 1) {
            if (i + 1 >= argv.length) throw new Error(`flag needs an argument: '${c}' in ${arg}`);
            flags.push(argv[i + 1]!);
            i += 1;
          }
          break;
        }
      }
      i += 1;
      continue;
    }
    const rest = argv.slice(i + 1);
    return { flags, positional: arg, rest: rest[0] === '--' ? rest.slice(1) : rest };
  }
  return { flags, positional: undefined, rest: [] };
}
