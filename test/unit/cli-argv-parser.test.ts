// Unit: the CLI's one argv parser (cli/lib/argv-parser.ts) and the command declarations it reads:
// docker's rules; every documented example of every built-in command parses; and, where the docker
// client is on PATH (found as test/e2e/harness.ts finds it), the flag names, short forms and kinds we share with
// docker match `docker <command> --help`, the examples parse or fail alike, and bad command lines
// fail with docker's words. docker runs against a socket that does not exist: only its parser works.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { parseArgv, UsageError } from '../../cli/lib/argv-parser.js';
import { declarationOf, flag, type CommandDeclaration } from '../../cli/lib/command-declaration.js';
import { parseCommand } from '../../cli/lib/command-runtime.js';

const commandsDir = fileURLToPath(new URL('../../cli/commands/', import.meta.url));
/** The docker client, found on PATH as test/e2e/harness.ts's DOCKER_CLIENT_MISSING finds it; the reason to skip when absent. */
const DOCKER = 'docker';
const DOCKER_CLIENT_MISSING: string | false =
  spawnSync(DOCKER, ['--version'], { stdio: 'ignore' }).status === 0 ? false : 'no docker client on PATH (these tests compare with its parser only, no engine needed)';

/** Every built-in declared command by its name (`ps`, `container prune`). */
async function declaredCommands(): Promise<Map<string, CommandDeclaration>> {
  const out = new Map<string, CommandDeclaration>();
  const walk = async (dir: string, prefix: string[]): Promise<void> => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) await walk(p, [...prefix, name]);
      else if (name.endsWith('.js')) {
        const mod = (await import(p)) as { default?: unknown };
        const decl = declarationOf(mod.default);
        if (decl) out.set([...prefix, name.slice(0, -3)].join(' '), decl);
      }
    }
  };
  await walk(commandsDir, []);
  return out;
}

/**
 * Shell words of a command line: quotes, backslashes, `&&`, `||`, `|`, `;` between commands, a
 * redirection's file left out, and `$(...)` one word (its command a command line of its own).
 */
export function shellCommands(line: string): string[][] {
  const commands: string[][] = [];
  let words: string[] = [];
  let word: string | undefined;
  let redirect = false;
  const endWord = (): void => {
    if (word !== undefined && !redirect) words.push(word);
    if (word !== undefined) redirect = false;
    word = undefined;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '$' && line[i + 1] === '(') {
      const end = line.indexOf(')', i);
      commands.push(...shellCommands(line.slice(i + 2, end)));
      word = (word ?? '') + 'SUBSTITUTED';
      i = end;
    } else if (c === '>' || c === '<') {
      endWord();
      redirect = true;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let s = '';
      for (i += 1; line[i] !== '"'; i++) s += line[i] === '\\' && '"\\$`'.includes(line[i + 1]!) ? line[++i] : line[i];
      word = (word ?? '') + s;
    } else if (c === '\\') {
      word = (word ?? '') + line[++i]!;
    } else if (c === ' ' || c === '|' || c === '&' || c === ';') {
      endWord();
      if (c !== ' ') {
        if (words.length > 0) commands.push(words);
        words = [];
        if (line[i + 1] === c) i++;
      }
    } else {
      word = (word ?? '') + c;
    }
  }
  endWord();
  if (words.length > 0) commands.push(words);
  return commands.map((w) => {
    let k = 0;
    while (k < w.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(w[k]!)) k++; // FOO=bar before the command
    return w.slice(k);
  });
}

/** The mini-docker command lines of a command's examples, as argv after `mini-docker`. */
function exampleLines(decl: CommandDeclaration): string[][] {
  const lines: string[][] = [];
  for (const e of decl.examples ?? []) {
    const text = (typeof e === 'string' ? e : e.command).replaceAll('<%= config.bin %>', 'mini-docker');
    for (const words of shellCommands(text)) if (words[0] === 'mini-docker') lines.push(words.slice(1));
  }
  return lines;
}

/** The command name at the start of argv, and the rest. */
function splitName(argv: readonly string[], commands: ReadonlyMap<string, CommandDeclaration>): { name: string; rest: string[] } | undefined {
  if (argv.length >= 2 && commands.has(`${argv[0]} ${argv[1]}`)) return { name: `${argv[0]} ${argv[1]}`, rest: argv.slice(2) };
  if (commands.has(argv[0] ?? '')) return { name: argv[0]!, rest: argv.slice(1) };
  return undefined;
}

describe('argv parser: docker\'s rules', () => {
  const flags = {
    all: flag.boolean({ char: 'a' }),
    quiet: flag.boolean({ char: 'q' }),
    'no-trunc': flag.boolean({}),
    time: flag.integer({ char: 't' }),
    signal: flag.string({ char: 's' }),
    env: flag.string({ char: 'e', multiple: true }),
    proxy: flag.boolean({ allowNo: true, default: true }),
    pull: flag.string({ options: ['missing', 'always'], default: 'missing' }),
  };
  const parsed = (argv: string[], stopAtFirstArg = false) => {
    const out = parseArgv(flags, argv, { stopAtFirstArg });
    assert.equal(out.kind, 'parsed');
    return out.kind === 'parsed' ? out : assert.fail('help');
  };

  it('gives every flag a value: false, [], the default, or nothing', () => {
    assert.deepEqual(parsed([]).flags, { all: false, quiet: false, 'no-trunc': false, env: [], proxy: true, pull: 'missing' });
  });

  it('reads booleans alone, grouped, long, with =true/=false, and --no- for allowNo', () => {
    const f = parsed(['-aq', '--no-trunc', '--proxy=false']).flags;
    assert.deepEqual([f.all, f.quiet, f['no-trunc'], f.proxy], [true, true, true, false]);
    assert.equal(parsed(['--no-proxy']).flags.proxy, false);
    assert.equal(parsed(['-a=false']).flags.all, false);
    assert.throws(() => parseArgv(flags, ['--all=maybe']), /invalid argument "maybe" for "-a, --all" flag: strconv.ParseBool/);
    assert.throws(() => parseArgv(flags, ['--no-all']), /unknown flag: --no-all/, 'no --no- without allowNo');
  });

  it('reads option values as the next word, after =, attached to a letter, or after a letter and =', () => {
    assert.equal(parsed(['-t', '5']).flags.time, 5);
    assert.equal(parsed(['--time=0']).flags.time, 0);
    assert.equal(parsed(['-t5']).flags.time, 5);
    assert.equal(parsed(['-t=7']).flags.time, 7);
    assert.deepEqual(parsed(['-e=A=1', '-eB=2', '--env', 'C=3', '-ae', 'D']).flags.env, ['A=1', 'B=2', 'C=3', 'D']);
    assert.equal(parsed(['--signal', '-1']).flags.signal, '-1', 'a value may start with -');
  });

  it('mixes flags and arguments, keeps the last of a flag given twice, ends flags at --', () => {
    const p = parsed(['web', '-t', '1', 'db', '-t', '2', '--', '-a', 'x']);
    assert.deepEqual(p.positionals, ['web', 'db', '-a', 'x']);
    assert.equal(p.flags.time, 2);
    assert.equal(p.flags.all, false);
    assert.deepEqual(parsed(['-']).positionals, ['-']);
  });

  it('stops at the first argument when asked (IMAGE [--] CMD...), dropping one -- right after it', () => {
    assert.deepEqual(parsed(['-a', 'img', 'ls', '-l', '-a'], true).positionals, ['img', 'ls', '-l', '-a']);
    assert.deepEqual(parsed(['img', '--', 'sh', '-c', 'echo', '--'], true).positionals, ['img', 'sh', '-c', 'echo', '--']);
    assert.deepEqual(parsed(['-a', '--', 'img', '--', 'x'], true).positionals, ['img', '--', 'x']);
    assert.equal(parsed(['-a', 'img', '--help'], true).positionals.at(-1), '--help', "the command's --help, not ours");
  });

  it('asks for help on --help where a flag may be', () => {
    assert.deepEqual(parseArgv(flags, ['web', '--help']), { kind: 'help' });
    assert.deepEqual(parseArgv(flags, ['--help', 'img'], { stopAtFirstArg: true }), { kind: 'help' });
  });

  it('refuses in docker\'s words', () => {
    const refuses = (argv: string[], message: string): void => {
      assert.throws(() => parseArgv(flags, argv), (err: unknown) => err instanceof UsageError && err.exitCode === 125 && err.message === message);
    };
    refuses(['--format', 'json'], 'unknown flag: --format');
    refuses(['-x'], "unknown shorthand flag: 'x' in -x");
    refuses(['-ax'], "unknown shorthand flag: 'x' in -x");
    refuses(['-qxa'], "unknown shorthand flag: 'x' in -xa"); // pflag names the group from the bad letter on
    refuses(['-at'], "flag needs an argument: 't' in -t");
    refuses(['--time'], 'flag needs an argument: --time');
    refuses(['-t'], "flag needs an argument: 't' in -t");
    refuses(['-t', 'x'], 'invalid argument "x" for "-t, --time" flag: strconv.ParseInt: parsing "x": invalid syntax');
    refuses(['--pull', 'sometimes'], 'invalid argument "sometimes" for "--pull" flag: must be one of missing, always');
  });
  it('takes a flag\'s aliases as the flag itself (docker\'s hidden --net and --net-alias), one value list for both spellings', () => {
    const aliased = {
      network: flag.string({ aliases: ['net'] }),
      'network-alias': flag.string({ multiple: true, aliases: ['net-alias'] }),
    };
    const out = parseArgv(aliased, ['--net=app', '--net-alias', 'a', '--network-alias=b', '--net-alias=c', 'img']);
    assert.equal(out.kind, 'parsed');
    if (out.kind !== 'parsed') return;
    assert.deepEqual(out.flags, { network: 'app', 'network-alias': ['a', 'b', 'c'] });
    assert.deepEqual(out.positionals, ['img']);
    assert.equal(Object.hasOwn(out.flags, 'net'), false, 'no value under the alias');
    assert.throws(() => parseArgv(aliased, ['--networks=x']), /unknown flag: --networks/);
  });

  it('declares --net and --net-alias on run and create, hidden from help', async () => {
    const commands = await declaredCommands();
    for (const name of ['run', 'create']) {
      const flags = commands.get(name)!.flags!;
      assert.deepEqual(flags.network!.aliases, ['net'], name);
      assert.deepEqual(flags['network-alias']!.aliases, ['net-alias'], name);
      assert.equal(Object.hasOwn(flags, 'net'), false, `${name}: an alias, not a flag of its own in help`);
    }
  });
});

describe('command declarations', () => {
  let commands: Map<string, CommandDeclaration>;
  before(async () => {
    commands = await declaredCommands();
  });

  it('declares the built-in commands, each with a summary and examples', () => {
    for (const name of ['ps', 'run', 'create', 'exec', 'stop', 'logs', 'images', 'inspect', 'commit', 'version', 'container prune', 'image prune', 'plugins reload']) {
      assert.ok(commands.has(name), `${name} is declared`);
    }
    for (const [name, decl] of commands) {
      assert.ok(decl.summary.length > 0, `${name} has a summary`);
      assert.ok(exampleLines(decl).length > 0, `${name} has an example`);
    }
  });

  it('parses every documented example of every command', () => {
    let count = 0;
    for (const [name, decl] of commands) {
      const own = exampleLines(decl).filter((argv) => splitName(argv, commands)?.name === name);
      assert.ok(own.length > 0, `an example of ${name} runs ${name}`);
      for (const argv of exampleLines(decl)) {
        const found = splitName(argv, commands);
        if (!found) continue; // oclif's own commands (plugins link) in an example
        const input = parseCommand(commands.get(found.name)!, found.rest, found.name);
        assert.notEqual(input, 'help', argv.join(' '));
        count++;
      }
    }
    assert.ok(count >= commands.size);
  });

  it('reads a command\'s own -H as that command\'s flag (history -H is --human, as in docker); --host still names the daemon', () => {
    const history = commands.get('history')!;
    const own = parseCommand(history, ['-H', 'busybox'], 'history');
    assert.ok(own !== 'help');
    assert.deepEqual([own.flags.human, own.flags.host, own.args.image], [true, undefined, 'busybox']);
    const off = parseCommand(history, ['--no-human', '--host', 'unix:///tmp/x.sock', 'busybox'], 'history');
    assert.ok(off !== 'help');
    assert.deepEqual([off.flags.human, off.flags.host, off.args.image], [false, 'unix:///tmp/x.sock', 'busybox']);
    const ps = parseCommand(commands.get('ps')!, ['-H', 'unix:///tmp/x.sock'], 'ps');
    assert.ok(ps !== 'help');
    assert.equal(ps.flags.host, 'unix:///tmp/x.sock', 'a command without its own -H takes it as the global --host');
  });

  it('keeps one short form per flag within a command', () => {
    for (const [name, decl] of commands) {
      const chars = Object.values(decl.flags ?? {}).map((f) => f.char).filter((c): c is string => c !== undefined);
      assert.equal(new Set(chars).size, chars.length, `${name}: a letter used twice`);
    }
  });
});

/**
 * Flags of ours that docker does not have, or has in another shape, on purpose. Anything else
 * that differs from `docker <command> --help` is a mistake in a declaration.
 */
const OWN_FLAGS: Readonly<Record<string, readonly string[]>> = {
  // the original project's -c 'QUOTA PERIOD' (docker's -c is --cpu-shares, which has no short form here)
  run: ['cpu', 'cpu-shares'], create: ['cpu', 'cpu-shares'],
  // update also takes the device rate limits run takes
  update: ['cpu', 'cpu-shares', 'device-read-bps', 'device-write-bps'],
  // docker calls it --timeout; its hidden --time is ours
  stop: ['time'], restart: ['time'],
  // each event with its effect on the state, from the event log
  events: ['steps'],
};

/** Commands docker does not have. */
const OWN_COMMANDS = new Set(['replay', 'ui', 'plugins reload', 'plugins kit', 'plugins new']);

interface DockerFlag {
  readonly char?: string;
  readonly boolean: boolean;
}

/** The flags `docker <command> --help` lists, by long name. */
function dockerHelpFlags(text: string): Map<string, DockerFlag> {
  const out = new Map<string, DockerFlag>();
  for (const line of text.split('\n')) {
    const m = /^ {2}(?:-(\w), | {4})--([a-z0-9-]+)(?: ([a-z0-9]+))?(?: {2,}|$)/.exec(line);
    if (m) out.set(m[2]!, { ...(m[1] ? { char: m[1] } : {}), boolean: m[3] === undefined });
  }
  return out;
}

describe('against the docker client\'s parser', { skip: DOCKER_CLIENT_MISSING }, () => {
  let commands: Map<string, CommandDeclaration>;
  let scratch: string;
  let env: NodeJS.ProcessEnv;
  const docker = (argv: readonly string[]) => spawnSync(DOCKER, [...argv], { env, encoding: 'utf8', timeout: 20_000 });

  before(async () => {
    commands = await declaredCommands();
    scratch = mkdtempSync(join(tmpdir(), 'td-cli-parse-'));
    env = { PATH: process.env.PATH, HOME: scratch, DOCKER_CONFIG: join(scratch, 'docker'), DOCKER_HOST: `unix://${join(scratch, 'none.sock')}` };
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('has docker\'s long names, short forms and kinds for the flags docker has', () => {
    let compared = 0;
    const wrong: string[] = [];
    for (const [name, decl] of commands) {
      if (OWN_COMMANDS.has(name)) continue;
      const help = docker([...name.split(' '), '--help']);
      assert.equal(help.status, 0, `docker ${name} --help: ${help.stderr}`);
      const theirs = dockerHelpFlags(help.stdout);
      for (const [flagName, ours] of Object.entries(decl.flags ?? {})) {
        if (OWN_FLAGS[name]?.includes(flagName)) continue;
        const d = theirs.get(flagName);
        if (!d) wrong.push(`docker ${name} has no --${flagName}: a typo, or add it to OWN_FLAGS with why`);
        else if (ours.char !== d.char) wrong.push(`${name} --${flagName}: short form ${ours.char} (docker's: ${d.char})`);
        else if ((ours.kind === 'boolean') !== d.boolean) wrong.push(`${name} --${flagName}: ours ${ours.kind}, docker's ${d.boolean ? 'boolean' : 'a value'}`);
        compared++;
      }
    }
    assert.deepEqual(wrong, []);
    assert.ok(compared > 50, `${compared} flags compared`);
  });

  it('accepts or refuses each example as docker does', () => {
    const flagError = /^(?:docker: )?(unknown flag|unknown shorthand flag|flag needs an argument|invalid argument)/m;
    const wrong: string[] = [];
    for (const [name, decl] of commands) {
      if (OWN_COMMANDS.has(name)) continue;
      for (const argv of exampleLines(decl)) {
        const found = splitName(argv, commands);
        if (!found || OWN_COMMANDS.has(found.name)) continue;
        const result = docker(argv);
        // our own flags, and the global --json (oclif's enableJsonFlag)
        const usesOwnFlag = argv.includes('--json') || (OWN_FLAGS[found.name] ?? []).some((f) => argv.includes(`--${f}`) || (f === 'cpu' && argv.includes('-c')));
        if (usesOwnFlag) continue;
        if (flagError.test(result.stderr)) wrong.push(`docker ${argv.join(' ')}: ${result.stderr.split('\n')[0]}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('refuses bad command lines with docker\'s message and exit code', () => {
    const cases: string[][] = [
      ['ps', '--bogus'], ['run', '-Z', 'busybox'], ['logs', '--tail'], ['ps', '-n', 'x'], ['run', '--rm=maybe', 'busybox'],
      ['stop'], ['exec', 'web'], ['rm'], ['inspect'], ['run', '-e'], ['images', '-q', '--filter'], ['kill', '-s'], ['ps', '-qxa'], ['ps', '-an'],
    ];
    for (const argv of cases) {
      const found = splitName(argv, commands)!;
      const d = docker(argv);
      const theirs = d.stderr.split('\n')[0]!.replace(/^docker: /, '').replace(/'docker /g, "'mini-docker ").replace(/\.$/, '');
      assert.throws(() => parseCommand(commands.get(found.name)!, found.rest, found.name), (err: unknown) => {
        assert.ok(err instanceof UsageError, String(err));
        assert.ok(err.message.startsWith(theirs), `${argv.join(' ')}: ours "${err.message}", docker's "${theirs}"`);
        assert.equal(err.exitCode, d.status, `${argv.join(' ')}: exit code`);
        return true;
      });
    }
  });
});
