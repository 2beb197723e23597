// Unit: how `run`/`create`/`exec` cut argv (IMAGE [--] CMD...) and build the create body.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Run from '../../cli/commands/run.js';
import Exec from '../../cli/commands/exec.js';
import { UsageError } from '../../cli/lib/argv-parser.js';
import { declarationOf, type CommandDeclaration } from '../../cli/lib/command-declaration.js';
import { parseCommand } from '../../cli/lib/command-runtime.js';
import { attachChoice, createBody, type CreateFlagValues } from '../../cli/lib/container-flags.js';
import { CliError } from '../../cli/lib/errors.js';

const runDecl = declarationOf(Run)!;

/** argv cut as the one parser cuts it: the flags, the first positional, what follows. */
function splitArgv(argv: string[], decl: CommandDeclaration = runDecl) {
  const parsed = parseCommand(decl, argv, 'run');
  assert.notEqual(parsed, 'help');
  if (parsed === 'help') throw new Error('help');
  return { flags: parsed.flags, positional: parsed.argv[0], rest: parsed.argv.slice(1) };
}

/** argv → (split, parsed flags, create body), as `run` does it. */
async function parseRun(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const split = splitArgv(argv);
  const flags = split.flags as unknown as CreateFlagValues & { detach: boolean };
  const body = createBody({ image: split.positional!, cmd: split.rest, flags, detach: flags.detach, consoleSize: [40, 120], exitCode: 125, env });
  return { split, flags, body };
}

describe('run argv: IMAGE [--] CMD...', () => {
  it('reads the seed syntax `-d ... IMAGE -- CMD...`', async () => {
    const { split, body } = await parseRun(['-d', '-e', 'PATH=/bin/', '-e', 'name=mini-docker-linux', '-m', '2000m', '-c', '10000 100000', '/tmp/linux.tar', '--', '/bin/sh', '-c', 'while true; do sleep 1; done']);
    assert.equal(split.positional, '/tmp/linux.tar');
    assert.deepEqual(split.rest, ['/bin/sh', '-c', 'while true; do sleep 1; done']);
    assert.equal(body.Image, '/tmp/linux.tar');
    assert.deepEqual(body.Cmd, ['/bin/sh', '-c', 'while true; do sleep 1; done']);
    assert.deepEqual(body.Env, ['PATH=/bin/', 'name=mini-docker-linux']);
    assert.equal(body.HostConfig.Memory, 2000 * 1024 * 1024);
    assert.equal(body.HostConfig.CpuQuota, 10000);
    assert.equal(body.HostConfig.CpuPeriod, 100000);
    assert.equal(body.AttachStdout, false, 'detached: nothing attached');
  });

  it('reads `IMAGE CMD...` without the double dash', async () => {
    const { split, body } = await parseRun(['busybox', 'echo', 'hi']);
    assert.equal(split.positional, 'busybox');
    assert.deepEqual(body.Cmd, ['echo', 'hi']);
    assert.equal(body.AttachStdout, true);
    assert.equal(body.AttachStderr, true);
    assert.equal(body.AttachStdin, false);
  });

  it('gives flags after the image to the command, not to run', async () => {
    const { split, flags, body } = await parseRun(['--name', 'web', 'busybox', 'ls', '-l', '-d', '--rm', '-e', 'X=1']);
    assert.deepEqual(split.rest, ['ls', '-l', '-d', '--rm', '-e', 'X=1']);
    assert.equal(flags.name, 'web');
    assert.equal(flags.detach, false);
    assert.equal(body.HostConfig.AutoRemove, false);
    assert.equal(body.Env, null);
  });

  it('keeps a second -- in the command', async () => {
    const { split } = await parseRun(['busybox', '--', 'sh', '-c', 'echo', '--']);
    assert.deepEqual(split.rest, ['sh', '-c', 'echo', '--']);
  });

  it('reads clustered and attached short flags: -it, -dit, -m2000m, -e=A=1, --name=web', async () => {
    const it1 = await parseRun(['-it', '--rm', 'busybox', 'sh']);
    assert.equal(it1.body.Tty, true);
    assert.equal(it1.body.OpenStdin, true);
    assert.equal(it1.body.StdinOnce, true);
    assert.equal(it1.body.AttachStdin, true);
    assert.equal(it1.body.HostConfig.AutoRemove, true);
    assert.deepEqual(it1.body.HostConfig.ConsoleSize, [40, 120]);
    const dit = await parseRun(['-dit', 'busybox']);
    assert.equal(dit.flags.detach, true);
    assert.equal(dit.body.AttachStdin, false);
    assert.equal(dit.body.StdinOnce, false);
    assert.equal(dit.body.Cmd, null, 'no CMD: the image default');
    const attached = await parseRun(['-m2000m', '-e=A=1', '--name=web', 'busybox']);
    assert.equal(attached.split.positional, 'busybox');
    assert.equal(attached.body.HostConfig.Memory, 2000 * 1024 * 1024);
    assert.deepEqual(attached.body.Env, ['A=1']);
    assert.equal(attached.flags.name, 'web');
  });

  it('does not let a repeatable flag swallow the image', async () => {
    const { split, body } = await parseRun(['-e', 'A=1', 'busybox', 'env']);
    assert.equal(split.positional, 'busybox');
    assert.equal(body.Image, 'busybox');
    assert.deepEqual(body.Cmd, ['env']);
  });

  it('resolves -e NAME from the CLI environment and drops unknown names', async () => {
    const { body } = await parseRun(['-e', 'FOO', '-e', 'MISSING', '-e', 'B=2', 'busybox'], { FOO: 'bar' });
    assert.deepEqual(body.Env, ['FOO=bar', 'B=2']);
  });

  it('reads limits in Docker field names', async () => {
    const { body } = await parseRun(['--cpus', '1.5', '--memory-swap', '-1', '-m', '64m', '--pids-limit', '20', '--cpuset-cpus', '0', '--device-read-bps', '/dev/sda:1mb', '--device-read-bps', '/dev/sdb:2mb', 'busybox']);
    assert.equal(body.HostConfig.NanoCpus, 1_500_000_000);
    assert.equal(body.HostConfig.MemorySwap, -1);
    assert.equal(body.HostConfig.Memory, 64 * 1024 * 1024);
    assert.equal(body.HostConfig.PidsLimit, 20);
    assert.equal(body.HostConfig.CpusetCpus, '0');
    assert.deepEqual(body.HostConfig.BlkioDeviceReadBps, [{ Path: '/dev/sda', Rate: 1048576 }, { Path: '/dev/sdb', Rate: 2097152 }]);
  });

  it('turns a bad limit into a 125 error naming the flag', async () => {
    await assert.rejects(parseRun(['-m', 'lots', 'busybox']), (err: unknown) => err instanceof CliError && err.exitCode === 125 && /--memory/.test(err.message));
  });

  it('maps --entrypoint, -w, -h, -u, labels and the log driver', async () => {
    const { body } = await parseRun(['--entrypoint', '/bin/sh', '-w', '/tmp', '-h', 'box', '-u', '1000:1000', '-l', 'app=web', '--log-driver', 'none', '--log-opt', 'max-size=1m', 'busybox', '-c', 'id']);
    assert.deepEqual(body.Entrypoint, ['/bin/sh']);
    assert.deepEqual(body.Cmd, ['-c', 'id']);
    assert.equal(body.WorkingDir, '/tmp');
    assert.equal(body.Hostname, 'box');
    assert.equal(body.User, '1000:1000');
    assert.deepEqual(body.Labels, { app: 'web' });
    assert.deepEqual(body.HostConfig.LogConfig, { Type: 'none', Config: { 'max-size': '1m' } });
  });

  it('rejects unknown flags before the image with docker wording', () => {
    assert.throws(() => splitArgv(['--bogus', 'busybox']), /unknown flag: --bogus/);
    assert.throws(() => splitArgv(['-Z', 'busybox']), /unknown shorthand flag: 'Z' in -Z/);
    assert.throws(() => splitArgv(['--name']), /flag needs an argument: --name/);
  });

  it('knows negated booleans (--no-sig-proxy), --sig-proxy=false and global -H', () => {
    const split = splitArgv(['--no-sig-proxy', '-H', 'unix:///tmp/x.sock', 'busybox', 'true']);
    assert.equal(split.flags['sig-proxy'], false);
    assert.equal(split.flags.host, 'unix:///tmp/x.sock');
    assert.equal(split.positional, 'busybox');
    assert.equal(splitArgv(['--sig-proxy=false', 'busybox']).flags['sig-proxy'], false);
    assert.equal(splitArgv(['busybox']).flags['sig-proxy'], true);
  });

  it('says IMAGE is missing in docker\'s words, exit 125', () => {
    assert.throws(() => splitArgv(['-d']), (err: unknown) => err instanceof UsageError && err.exitCode === 125
      && err.message === "'mini-docker run' requires at least 1 argument: IMAGE [COMMAND] [ARG...]");
  });

  it('cuts exec argv at the container', () => {
    const split = splitArgv(['-it', '-e', 'A=1', 'web', 'sh', '-c', 'echo $A'], declarationOf(Exec)!);
    assert.equal(split.positional, 'web');
    assert.deepEqual(split.rest, ['sh', '-c', 'echo $A']);
  });
});

describe('attach choice', () => {
  it('attaches stdout and stderr by default, stdin with -i, nothing detached', () => {
    assert.deepEqual(attachChoice({ interactive: false }, false, 125), { stdin: false, stdout: true, stderr: true });
    assert.deepEqual(attachChoice({ interactive: true }, false, 125), { stdin: true, stdout: true, stderr: true });
    assert.deepEqual(attachChoice({ interactive: true }, true, 125), { stdin: false, stdout: false, stderr: false });
    assert.deepEqual(attachChoice({ interactive: false, attach: ['STDERR'] }, false, 125), { stdin: false, stdout: false, stderr: true });
    assert.throws(() => attachChoice({ interactive: false, attach: ['stdout'] }, true, 125), /Conflicting options: -a and -d/);
  });
});
