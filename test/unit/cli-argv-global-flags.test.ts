// Unit: the global flags before the command name, as the docker client reads them
// (`mini-docker -H unix:///x.sock ps`): the split of argv (cli/global-args.cts splitGlobalArgs), the
// launcher's command finding (cli/launcher.cts launchPlan: which bundle runs), the runtime's merge
// with the command's own flags (command-runtime.ts parseCommand, applyEnvironmentFlags),
// bin/mini-docker's refusals and help;
// and, where the docker client is on PATH, the same command lines accepted or refused as docker
// does, in docker's words (docker runs against a socket that does not exist: only its parser works).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { UsageError } from '../../cli/lib/argv-parser.js';
import { declarationOf, type CommandDeclaration } from '../../cli/lib/command-declaration.js';
import { applyEnvironmentFlags, parseCommand } from '../../cli/lib/command-runtime.js';
import { splitGlobalArgs } from '../../cli/global-args.cjs';
import { BUNDLES_DIR, launchPlan } from '../../cli/launcher.cjs';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(root, 'bin', 'mini-docker');
const DOCKER_CLIENT_MISSING: string | false =
  spawnSync('docker', ['--version'], { stdio: 'ignore' }).status === 0 ? false : 'no docker client on PATH (these tests compare with its parser only, no engine needed)';

async function command(name: string): Promise<CommandDeclaration> {
  const mod = (await import(join(root, 'dist', 'cli', 'commands', ...name.split(' ')) + '.js')) as { default?: unknown };
  const decl = declarationOf(mod.default);
  assert.ok(decl, `${name} is a declared command`);
  return decl;
}

describe('global flags before the command: the split', () => {
  const split = (...args: string[]) => splitGlobalArgs(args);

  it('takes -H/--host in every docker form, written --host=VALUE, and stops at the command name', () => {
    for (const args of [['-H', 'unix:///a.sock', 'ps', '-a'], ['--host', 'unix:///a.sock', 'ps', '-a'], ['--host=unix:///a.sock', 'ps', '-a'], ['-Hunix:///a.sock', 'ps', '-a'], ['-H=unix:///a.sock', 'ps', '-a']]) {
      assert.deepEqual(splitGlobalArgs(args), { kind: 'split', globals: ['--host=unix:///a.sock'], rest: ['ps', '-a'] }, args.join(' '));
    }
  });

  it('takes the TLS flags, -D, -l and --config, booleans grouped with a value flag last (-Dl debug)', () => {
    assert.deepEqual(split('--tlsverify', '--tlscacert', 'ca.pem', '--tlscert=c.pem', '--tlskey', 'k.pem', '--tls=false', '-H', 'tcp://127.0.0.1:2376', 'run', '-d', 'busybox'), {
      kind: 'split',
      globals: ['--tlsverify', '--tlscacert=ca.pem', '--tlscert=c.pem', '--tlskey=k.pem', '--tls=false', '--host=tcp://127.0.0.1:2376'],
      rest: ['run', '-d', 'busybox'],
    });
    assert.deepEqual(split('-Dl', 'debug', '--config', '/tmp/cfg', 'images'), { kind: 'split', globals: ['--debug', '--log-level=debug', '--config=/tmp/cfg'], rest: ['images'] });
    assert.deepEqual(split('-DHunix:///b', 'ps'), { kind: 'split', globals: ['--debug', '--host=unix:///b'], rest: ['ps'] });
    assert.deepEqual(split('-D=false', 'ps'), { kind: 'split', globals: ['--debug=false'], rest: ['ps'] });
  });

  it('leaves everything from the command name on to the command (its own -H too), drops one -- before it', () => {
    assert.deepEqual(split('-H', 'unix:///a', 'history', '-H', 'busybox'), { kind: 'split', globals: ['--host=unix:///a'], rest: ['history', '-H', 'busybox'] });
    assert.deepEqual(split('-H', 'unix:///a', '--', 'ps', '--', 'x'), { kind: 'split', globals: ['--host=unix:///a'], rest: ['ps', '--', 'x'] });
    assert.deepEqual(split('ps', '-H', 'unix:///a'), { kind: 'split', globals: [], rest: ['ps', '-H', 'unix:///a'] });
    assert.deepEqual(split('-H', 'unix:///a', '-', 'x'), { kind: 'split', globals: ['--host=unix:///a'], rest: ['-', 'x'] });
    assert.deepEqual(split('-H', '-x', 'ps'), { kind: 'split', globals: ['--host=-x'], rest: ['ps'] }, 'a value may start with -, as in pflag');
  });

  it('ends at --help/-h and --version/-v, as a command name does', () => {
    assert.deepEqual(split('-H', 'unix:///a', '--help'), { kind: 'split', globals: ['--host=unix:///a'], rest: ['--help'] });
    assert.deepEqual(split('-h'), { kind: 'split', globals: [], rest: ['--help'] });
    assert.deepEqual(split('-D', '-v'), { kind: 'split', globals: ['--debug'], rest: ['--version'] });
    assert.deepEqual(split('-H', 'unix:///a'), { kind: 'split', globals: ['--host=unix:///a'], rest: [] });
  });

  it('refuses in the docker client\'s words', () => {
    assert.deepEqual(split('--x', 'ps'), { kind: 'error', message: 'unknown flag: --x' });
    assert.deepEqual(split('--x=1', 'ps'), { kind: 'error', message: 'unknown flag: --x' });
    assert.deepEqual(split('-x', 'ps'), { kind: 'error', message: "unknown shorthand flag: 'x' in -x" });
    assert.deepEqual(split('-Dx', 'ps'), { kind: 'error', message: "unknown shorthand flag: 'x' in -x" });
    assert.deepEqual(split('-H'), { kind: 'error', message: "flag needs an argument: 'H' in -H" });
    assert.deepEqual(split('-DxH', 'ps'), { kind: 'error', message: "unknown shorthand flag: 'x' in -xH" }, 'pflag names the group from the bad letter on');
    assert.deepEqual(split('-DH'), { kind: 'error', message: "flag needs an argument: 'H' in -H" });
    assert.deepEqual(split('--host'), { kind: 'error', message: 'flag needs an argument: --host' });
    assert.deepEqual(split('--tlscacert'), { kind: 'error', message: 'flag needs an argument: --tlscacert' });
    assert.deepEqual(split('--json', 'ps'), { kind: 'error', message: 'unknown flag: --json' }, "a command's flag is not a global one");
  });
});

describe('global flags before the command: the launcher\'s command finding', () => {
  const bundle = (name: string) => join(BUNDLES_DIR, `${name}.cjs`);

  it('finds the command\'s bundle after the global flags and their values, then the rest\'s', () => {
    assert.deepEqual(launchPlan(['-H', 'unix:///a', 'ps', '-a']), { kind: 'bundles', bundles: [bundle('ps'), bundle('_rest')] });
    assert.deepEqual(launchPlan(['--tlsverify', '--host=tcp://127.0.0.1:2376', 'container', 'prune', '-f']), { kind: 'bundles', bundles: [bundle('container.prune'), bundle('container'), bundle('_rest')] });
    assert.deepEqual(launchPlan(['-Dl', 'debug', '--config', '/tmp/c', 'history', '-H', 'busybox']), { kind: 'bundles', bundles: [bundle('history'), bundle('_rest')] });
    assert.deepEqual(launchPlan(['-H', 'unix:///a', '--', 'ps']), { kind: 'bundles', bundles: [bundle('ps'), bundle('_rest')] });
    assert.deepEqual(launchPlan(['ps', '-H', 'unix:///a']), { kind: 'bundles', bundles: [bundle('ps'), bundle('_rest')] }, 'as before: the command first');
  });

  it('takes a flag\'s value for a value, never for the command (-H ps is a host named ps)', () => {
    assert.deepEqual(launchPlan(['-H', 'ps']), { kind: 'bundles', bundles: [bundle('_rest')] });
    assert.deepEqual(launchPlan(['--config', 'stop', 'ps']), { kind: 'bundles', bundles: [bundle('ps'), bundle('_rest')] });
    assert.deepEqual(launchPlan(['-H', '../../x', 'ps']), { kind: 'bundles', bundles: [bundle('ps'), bundle('_rest')] });
  });

  it('answers --version and -v after the global flags itself, sends help and no command to the rest\'s bundle, refuses a bad flag', () => {
    assert.deepEqual(launchPlan(['--version']), { kind: 'version' });
    assert.deepEqual(launchPlan(['-v']), { kind: 'version' });
    assert.deepEqual(launchPlan(['-H', 'unix:///a', '--version']), { kind: 'version' });
    assert.deepEqual(launchPlan(['-H', 'unix:///a']), { kind: 'bundles', bundles: [bundle('_rest')] });
    assert.deepEqual(launchPlan(['-H', 'unix:///a', '--help']), { kind: 'bundles', bundles: [bundle('_rest')] });
    assert.deepEqual(launchPlan(['--bogus', 'ps']), { kind: 'refuse', line: "Error: unknown flag: --bogus (see 'mini-docker --help')" });
  });
});

describe('global flags before the command: the command\'s parse', () => {
  it('gives the command the values given before its name, as if given after it', async () => {
    const ps = parseCommand(await command('ps'), ['-a'], 'ps', ['--host=unix:///a.sock', '--tlsverify', '--tlscacert=ca.pem']);
    assert.ok(ps !== 'help');
    assert.deepEqual([ps.flags.host, ps.flags.tlsverify, ps.flags.tlscacert, ps.flags.tls, ps.flags.all], ['unix:///a.sock', true, 'ca.pem', false, true]);
    const run = parseCommand(await command('run'), ['--rm', 'busybox', 'ls', '-H'], 'run', ['--host=unix:///a.sock']);
    assert.ok(run !== 'help');
    assert.deepEqual([run.flags.host, run.argv], ['unix:///a.sock', ['busybox', 'ls', '-H']]);
  });

  it('leaves a command\'s own -H to it (history -H is --human) with -H before the command naming the daemon', async () => {
    const history = parseCommand(await command('history'), ['-H', 'busybox'], 'history', ['--host=unix:///a.sock']);
    assert.ok(history !== 'help');
    assert.deepEqual([history.flags.human, history.flags.host, history.args.image], [true, 'unix:///a.sock', 'busybox']);
  });

  it('refuses a global flag given both before and after the command name, whatever the spelling after', async () => {
    const ps = await command('ps');
    for (const after of [['-H', 'unix:///b'], ['--host=unix:///b'], ['--tls']]) {
      const before = after[0] === '--tls' ? ['--tls'] : ['--host=unix:///a'];
      assert.throws(() => parseCommand(ps, after, 'ps', before), (err: unknown) => {
        assert.ok(err instanceof UsageError);
        assert.equal(err.exitCode, 125);
        assert.equal(err.message, `--${after[0] === '--tls' ? 'tls' : 'host'} is given both before and after the command name: give it once`);
        return true;
      });
    }
    const other = parseCommand(ps, ['--tlskey', 'k.pem'], 'ps', ['--host=unix:///a']);
    assert.ok(other !== 'help');
    assert.deepEqual([other.flags.host, other.flags.tlskey], ['unix:///a', 'k.pem'], 'different flags on each side');
  });

  it('sets DEBUG for -D and -l debug, DOCKER_CONFIG for --config, and passes on the connection flags', () => {
    const env: NodeJS.ProcessEnv = {};
    assert.deepEqual(applyEnvironmentFlags(['--debug', '--host=unix:///a', '--config=/tmp/cfg', '--tls'], env), ['--host=unix:///a', '--tls']);
    assert.deepEqual(env, { DEBUG: '1', DOCKER_CONFIG: '/tmp/cfg' });
    const levels: NodeJS.ProcessEnv = {};
    assert.deepEqual(applyEnvironmentFlags(['--log-level=debug'], levels), []);
    assert.deepEqual(levels, { DEBUG: '1' });
    const quiet: NodeJS.ProcessEnv = {};
    applyEnvironmentFlags(['--log-level=error', '--debug=false'], quiet);
    assert.deepEqual(quiet, {}, 'another level, or -D=false, changes nothing');
    const traced: NodeJS.ProcessEnv = {};
    applyEnvironmentFlags(['--log-level=TRACE'], traced);
    assert.deepEqual(traced, { DEBUG: '1' }, 'trace is debug, in any case (logrus ParseLevel)');
    for (const level of ['warning', 'WARN', 'Info', 'panic', 'fatal']) assert.deepEqual(applyEnvironmentFlags([`--log-level=${level}`], {}), [], level);
    assert.throws(() => applyEnvironmentFlags(['--log-level=loud'], {}), (err: unknown) => err instanceof UsageError && err.message === 'Unable to parse logging level: loud' && err.exitCode === 1);
    assert.throws(() => applyEnvironmentFlags(['--host=unix:///a', '--host=unix:///b'], {}), (err: unknown) => err instanceof UsageError && /Specify only one -H$/.test(err.message) && err.exitCode === 1);
    assert.throws(() => applyEnvironmentFlags(['--debug=maybe'], {}), /invalid argument "maybe" for "-D, --debug" flag: strconv.ParseBool/);
  });
});

describe('global flags before the command: bin/mini-docker', () => {
  let scratch: string;
  let env: NodeJS.ProcessEnv;
  const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) => spawnSync(bin, args, { env: { ...env, ...extra }, encoding: 'utf8', timeout: 20_000 });

  before(() => {
    scratch = mkdtempSync(join(process.env.TINY_DOCKER_TEST_SCRATCH ?? tmpdir(), 'cli-globals-'));
    env = { PATH: process.env.PATH, HOME: scratch, MINI_DOCKER_NO_AUTOSTART: '1', MINI_DOCKER_EXEC_ROOT: join(scratch, 'run'), MINI_DOCKER_DATA_ROOT: join(scratch, 'data'), XDG_DATA_HOME: join(scratch, 'xdg') };
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('reaches for the daemon -H names, through the bundle and through oclif', () => {
    const sock = join(scratch, 'elsewhere.sock');
    for (const extra of [{}, { MINI_DOCKER_NO_FAST_PATH: '1' }]) {
      for (const args of [['-H', `unix://${sock}`, 'ps'], [`--host=unix://${sock}`, 'history', '-H', 'busybox']]) {
        const r = cli(args, extra);
        assert.equal(r.status, 1, r.stderr);
        assert.equal(r.stderr, `Error: cannot reach mini-dockerd at ${sock} (ENOENT); not starting it because MINI_DOCKER_NO_AUTOSTART=1\n`, args.join(' '));
      }
    }
  });

  it('refuses a bad global flag with one line and 125, and one given on both sides', () => {
    assert.deepEqual([cli(['--x', 'ps']).status, cli(['--x', 'ps']).stderr], [125, "Error: unknown flag: --x (see 'mini-docker --help')\n"]);
    assert.deepEqual([cli(['-H']).status, cli(['-H']).stderr], [125, "Error: flag needs an argument: 'H' in -H (see 'mini-docker --help')\n"]);
    const envFile = cli(['--env-file=x', 'ps']);
    assert.deepEqual([envFile.status, envFile.stderr], [125, "Error: unknown flag: --env-file (see 'mini-docker --help')\n"], 'named as typed, not as bin/mini-docker renamed it for node');
    const loud = cli(['-l', 'loud', 'ps']);
    assert.deepEqual([loud.status, loud.stderr], [1, 'Error: Unable to parse logging level: loud (see \'mini-docker --help\')\n']);
    const twice = cli(['-H', 'unix:///a', '-H', 'unix:///b', 'ps']);
    assert.deepEqual([twice.status, twice.stderr], [1, 'Error: Failed to initialize: unable to resolve docker endpoint: Specify only one -H (see \'mini-docker --help\')\n']);
    for (const extra of [{}, { MINI_DOCKER_NO_FAST_PATH: '1' }]) {
      const both = cli(['-H', 'unix:///a', 'ps', '-H', 'unix:///b'], extra);
      assert.deepEqual([both.status, both.stdout, both.stderr], [125, '', "Error: --host is given both before and after the command name: give it once (see 'mini-docker ps --help')\n"]);
    }
  });

  it('shows the help for global flags and no command, prints the version after them, and -D prints the stack trace', () => {
    const help = cli(['-H', 'unix:///a']);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^USAGE\n {2}\$ mini-docker \[COMMAND\]$/m);
    assert.equal(cli(['--host=unix:///a', '--help']).stdout, help.stdout);
    // the root help lists the global flags, as docker's "Global Options"
    const at = help.stdout.indexOf('\nGLOBAL FLAGS\n');
    assert.notEqual(at, -1, help.stdout);
    const listed = help.stdout.slice(at);
    for (const usage of ['-H, --host=<value>', '    --tls ', '    --tlsverify ', '    --tlscacert=<value>', '    --tlscert=<value>', '    --tlskey=<value>', '-D, --debug ', '-l, --log-level=<value>', '    --config=<value>']) {
      assert.ok(listed.includes(usage), `${usage} in:\n${listed}`);
    }
    const psHelp = cli(['ps', '--help']).stdout;
    assert.match(psHelp, /^ {2}-H, --host=<value> /m, 'a command\'s help shows the flags it takes after its name');
    assert.doesNotMatch(psHelp, /--debug|--log-level|--config/, '-D, -l and --config only before the command');
    const version = cli(['-D', '-v']);
    assert.equal(version.status, 0);
    assert.match(version.stdout, /^tiny-docker\/\S+ linux-\S+ node-v\d/);
    const debug = cli(['-D', '-H', `unix://${join(scratch, 'none.sock')}`, 'ps']);
    assert.equal(debug.status, 1);
    assert.match(debug.stderr, /^Error: cannot reach mini-dockerd at .*\nCliError: cannot reach mini-dockerd at .*\n {4}at /);
    assert.doesNotMatch(cli(['-H', `unix://${join(scratch, 'none.sock')}`, 'ps']).stderr, / {4}at /, 'no stack trace without -D');
  });
});

describe('global flags before the command: against the docker client\'s parser', { skip: DOCKER_CLIENT_MISSING }, () => {
  let scratch: string;
  let env: NodeJS.ProcessEnv;
  const docker = (argv: readonly string[]) => spawnSync('docker', [...argv], { env, encoding: 'utf8', timeout: 20_000 });
  const flagError = /^(?:docker: )?(unknown flag|unknown shorthand flag|flag needs an argument|invalid argument)[^\n]*/;

  before(() => {
    scratch = mkdtempSync(join(tmpdir(), 'td-cli-globals-'));
    env = { PATH: process.env.PATH, HOME: scratch, DOCKER_CONFIG: join(scratch, 'docker') };
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('accepts and refuses the global flags before the command as docker does, in its words, with its exit code', () => {
    const sock = `unix://${join(scratch, 'none.sock')}`;
    const lines: string[][] = [
      ['-H', sock, 'ps'], [`--host=${sock}`, 'ps'], [`-H${sock}`, 'ps'], [`-H=${sock}`, 'ps'], ['-D', '-H', sock, 'ps'], ['-Dl', 'debug', '-H', sock, 'ps'],
      ['--log-level=error', '-H', sock, 'images'], ['--config', join(scratch, 'cfg'), '-H', sock, 'ps'], ['-H', sock, '--', 'ps'], ['-H', sock, 'history', '-H', 'busybox'],
      ['--tls', '-H', sock, 'ps'], ['--tlscacert', 'ca.pem', '--tlscert=c.pem', '--tlskey', 'k.pem', '-H', sock, 'ps'],
      ['--x', 'ps'], ['-x', 'ps'], ['-Dx', 'ps'], ['-DxH', 'ps'], ['-DH'], ['-H'], ['--host'], ['--tlskey'], ['--json', 'ps'], ['--all', 'ps'],
    ];
    const wrong: string[] = [];
    for (const argv of lines) {
      const theirs = docker(argv);
      const theirError = flagError.exec(theirs.stderr)?.[0].replace(/^docker: /, '');
      const ours = splitGlobalArgs(argv);
      if (theirError === undefined && ours.kind === 'error') wrong.push(`${argv.join(' ')}: docker takes it, we refuse: ${ours.message}`);
      if (theirError !== undefined && ours.kind !== 'error') wrong.push(`${argv.join(' ')}: docker refuses (${theirError}), we take it`);
      if (theirError !== undefined && ours.kind === 'error') {
        if (theirError !== ours.message) wrong.push(`${argv.join(' ')}: ours "${ours.message}", docker's "${theirError}"`);
        if (theirs.status !== 125) wrong.push(`${argv.join(' ')}: docker's exit code ${theirs.status}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('shows its help for global flags and no command, as docker does', () => {
    const theirs = docker(['-H', 'unix:///none.sock']);
    assert.equal(theirs.status, 0);
    assert.match(theirs.stdout + theirs.stderr, /^Usage: {2}docker \[OPTIONS\] COMMAND/);
    assert.deepEqual(launchPlan(['-H', 'unix:///none.sock']), { kind: 'bundles', bundles: [join(BUNDLES_DIR, '_rest.cjs')] });
  });
});
