// Unit: the CLI's fast path (cli/fast-path.ts). Its argv parser takes only plain forms and leaves
// the rest to oclif; and for every form it takes, bin/mini-docker prints the same bytes and exits
// with the same code as the oclif command (MINI_DOCKER_NO_FAST_PATH=1), against the API server
// with the fake engine behind it.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { parseSimple } from '../../cli/fast-path.js';
import { runCommand, type RunResult as Result } from '../e2e/harness.js';
import { startHarness, type Harness } from './fake-engine.js';

const bin = fileURLToPath(new URL('../../../bin/mini-docker', import.meta.url));

describe('cli fast path: parseSimple', () => {
  const ps = { all: { type: 'boolean', char: 'a' }, quiet: { type: 'boolean', char: 'q' }, 'no-trunc': { type: 'boolean' } } as const;
  const stop = { time: { type: 'integer', char: 't' }, signal: { type: 'string', char: 's' } } as const;
  const run = { detach: { type: 'boolean', char: 'd' }, name: { type: 'string' }, env: { type: 'string', char: 'e', multiple: true } } as const;

  it('takes booleans alone, grouped and long', () => {
    assert.deepEqual(parseSimple(['-aq'], ps, false), { flags: { all: true, quiet: true }, args: [] });
    assert.deepEqual(parseSimple(['--no-trunc', '-a'], ps, false), { flags: { 'no-trunc': true, all: true }, args: [] });
    assert.deepEqual(parseSimple([], ps, false), { flags: {}, args: [] });
  });

  it('takes option values as the next word or after =, integers checked', () => {
    assert.deepEqual(parseSimple(['-t', '5', 'web', 'db'], stop, false), { flags: { time: 5 }, args: ['web', 'db'] });
    assert.deepEqual(parseSimple(['--time=0', '--signal', 'INT', 'web'], stop, false), { flags: { time: 0, signal: 'INT' }, args: ['web'] });
    assert.equal(parseSimple(['-t', 'x', 'web'], stop, false), null, 'not an integer: oclif says so');
    assert.equal(parseSimple(['-t'], stop, false), null);
  });

  it('IMAGE [--] CMD...: flags end at the first argument, a -- after it is dropped, -e repeats', () => {
    assert.deepEqual(parseSimple(['-d', '-e', 'A=1', '-e', 'B=2', '--name', 'x', 'img', '--', 'sh', '-c', 'ls -l'], run, true),
      { flags: { detach: true, env: ['A=1', 'B=2'], name: 'x' }, args: ['img', 'sh', '-c', 'ls -l'] });
    assert.deepEqual(parseSimple(['-d', 'img', 'ls', '-l'], run, true), { flags: { detach: true }, args: ['img', 'ls', '-l'] });
    assert.deepEqual(parseSimple(['-d', 'img'], run, true), { flags: { detach: true }, args: ['img'] });
  });

  it('leaves anything unusual to oclif', () => {
    assert.equal(parseSimple(['--format', 'json'], ps, false), null, 'an unknown flag');
    assert.equal(parseSimple(['-x'], ps, false), null);
    assert.equal(parseSimple(['--help'], ps, false), null);
    assert.equal(parseSimple(['-H', 'unix:///x'], ps, false), null);
    assert.equal(parseSimple(['web', '-t', '1'], stop, false), null, 'a flag after an argument');
    assert.equal(parseSimple(['-a', '-a'], ps, false), null, 'a flag given twice');
    assert.equal(parseSimple(['--all=1'], ps, false), null);
    assert.equal(parseSimple(['-te', '1'], run, true), null, 'an unknown letter in a group');
    assert.equal(parseSimple(['-ed', 'A=1', 'img'], run, true), null, 'an option not last in its group');
    assert.equal(parseSimple(['--', 'img'], run, true), null);
    assert.equal(parseSimple(['-d'], run, true), null, 'no IMAGE');
  });
});

describe('cli fast path: same output and exit code as the oclif commands', () => {
  let h: Harness;
  let env: NodeJS.ProcessEnv;

  const cli = (args: readonly string[], extra: NodeJS.ProcessEnv = {}, input?: string): Promise<Result> =>
    runCommand(bin, [...args], { env: { ...env, ...extra }, timeoutMs: 15_000, ...(input !== undefined ? { input } : {}) });

  /** The command through the fast path and through oclif: both results. */
  const both = async (args: readonly string[], input?: string): Promise<[Result, Result]> => [
    await cli(args, {}, input),
    await cli(args, { MINI_DOCKER_NO_FAST_PATH: '1' }, input),
  ];

  before(async () => {
    h = await startHarness();
    env = { PATH: process.env.PATH, HOME: h.dir, XDG_DATA_HOME: join(h.dir, 'xdg'), MINI_DOCKER_HOST: `unix://${h.socketPath}`, MINI_DOCKER_NO_AUTOSTART: '1' };
  });
  after(() => h.close());

  it('ps, ps -a, ps -aq, ps --no-trunc', async () => {
    for (const args of [['ps'], ['ps', '-a'], ['ps', '-aq'], ['ps', '-q', '--no-trunc'], ['ps', '--no-trunc', '-a']]) {
      const [fast, slow] = await both(args);
      assert.equal(fast.code, 0, fast.stderr);
      // CREATED and STATUS say "N seconds ago": compare without the clock's digits, and without the
      // column padding, which grows by one when "1 second" became "2 seconds" between the two runs.
      const steady = (r: Result): Result => ({ ...r, stdout: r.stdout.replace(/\d+ (second|minute|hour)s?/g, 'N $1').replace(/ {2,}/g, '  ') });
      assert.deepEqual(steady(fast), steady(slow), args.join(' '));
    }
  });

  it('exec: output, stdin, exit codes, flags, a missing container', async () => {
    for (const [args, input] of [
      [['exec', 'web', 'echo', 'in', 'web']],
      [['exec', '-i', 'web', 'cat'], 'data\n'],
      [['exec', 'web', 'sh', '-c', 'exit 5']],
      [['exec', '-e', 'A=1', '-w', '/tmp', '-u', 'nobody', 'web', 'echo', 'flags']],
      [['exec', 'web', '--', 'echo', '-n', 'x']],
      [['exec', 'old', 'true']],
      [['exec', 'nosuch', 'true']],
    ] as const) {
      const [fast, slow] = await both(args, input);
      assert.deepEqual(fast, slow, args.join(' '));
    }
    // What the daemon was asked for, -e -w -u included: the same both times.
    const execs = Object.values(h.engine.state().execs).filter((x) => x.cmd.join(' ') === 'echo flags');
    assert.equal(execs.length, 2);
    const asked = execs.map((x) => ({ env: x.env, workingDir: x.workingDir, user: x.user, tty: x.tty, stdin: x.attachStdin }));
    assert.deepEqual(asked[0], { env: ['A=1'], workingDir: '/tmp', user: 'nobody', tty: false, stdin: false });
    assert.deepEqual(asked[0], asked[1]);
  });

  it('logs: the same bytes on stdout and stderr, --tail and -t, a missing container', async () => {
    for (const args of [['logs', 'web'], ['logs', '--tail', '1', 'web'], ['logs', '-n', '2', '-t', 'web'], ['logs', 'nosuch']]) {
      const [fast, slow] = await both(args);
      assert.deepEqual(fast, slow, args.join(' '));
    }
  });

  it('stop and run -d: errors word for word, same exit codes', async () => {
    for (const args of [['stop', 'nosuch'], ['stop', '-t', '1', 'nosuch', 'alsonot'], ['run', '-d', 'nosuchimage', 'true'], ['run', '-d', '-e', 'BAD', '--name', 'x', 'nosuchimage']]) {
      const [fast, slow] = await both(args);
      assert.notEqual(fast.code, 0);
      assert.deepEqual(fast, slow, args.join(' '));
    }
  });

  it('run -d then stop: the id, then the name, as the oclif commands print them', async () => {
    const fast = await cli(['run', '-d', '--name', 'fast-one', '-e', 'A=1', 'busybox', 'sleep', '5']);
    const slow = await cli(['run', '-d', '--name', 'slow-one', '-e', 'A=1', 'busybox', 'sleep', '5'], { MINI_DOCKER_NO_FAST_PATH: '1' });
    assert.equal(fast.code, 0, fast.stderr);
    assert.equal(slow.code, 0, slow.stderr);
    assert.match(fast.stdout, /^[0-9a-f]{64}\n$/);
    assert.match(slow.stdout, /^[0-9a-f]{64}\n$/);
    const dup = await both(['run', '-d', '--name', 'fast-one', 'busybox']);
    assert.equal(dup[0].code, 125);
    assert.deepEqual(dup[0], dup[1]);
    assert.deepEqual(await cli(['stop', '-t', '1', 'fast-one']), { code: 0, stdout: 'fast-one\n', stderr: '' });
    assert.deepEqual(await cli(['stop', '-t', '1', 'slow-one'], { MINI_DOCKER_NO_FAST_PATH: '1' }), { code: 0, stdout: 'slow-one\n', stderr: '' });
  });
});
