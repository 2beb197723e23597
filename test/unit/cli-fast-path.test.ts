// Unit: a built-in command that cli/entry.ts loads directly (without oclif) prints the same bytes
// and exits with the same code as when oclif loads the same declared class
// (MINI_DOCKER_NO_FAST_PATH=1), against the API server with the real engine on in-memory drivers
// behind it.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { runCommand, type RunResult as Result } from '../e2e/harness.js';
import type { ContainerEngine } from '../../core/engine/container-engine.js';
import { serveSeededRig, type Harness } from './api-harness.js';

const bin = fileURLToPath(new URL('../../../bin/mini-docker', import.meta.url));

describe('cli without oclif: same output and exit code as the oclif commands', () => {
  let h: Harness<ContainerEngine>;
  let env: NodeJS.ProcessEnv;

  const cli = (args: readonly string[], extra: NodeJS.ProcessEnv = {}, input?: string): Promise<Result> =>
    runCommand(bin, [...args], { env: { ...env, ...extra }, timeoutMs: 15_000, ...(input !== undefined ? { input } : {}) });

  /** The command through the fast path and through oclif: both results. */
  const both = async (args: readonly string[], input?: string): Promise<[Result, Result]> => [
    await cli(args, {}, input),
    await cli(args, { MINI_DOCKER_NO_FAST_PATH: '1' }, input),
  ];

  serveSeededRig((s) => {
    ({ h } = s);
    env = { PATH: process.env.PATH, HOME: h.dir, XDG_DATA_HOME: join(h.dir, 'xdg'), MINI_DOCKER_HOST: `unix://${h.socketPath}`, MINI_DOCKER_NO_AUTOSTART: '1' };
  });

  it('ps, ps -a, ps -aq, ps --no-trunc', async () => {
    for (const args of [['ps'], ['ps', '-a'], ['ps', '-aq'], ['ps', '-q', '--no-trunc'], ['ps', '--no-trunc', '-a']]) {
      const [fast, slow] = await both(args);
      assert.equal(fast.code, 0, fast.stderr);
      // CREATED and STATUS say "N seconds ago": compare without the clock's words, and without the
      // column padding, which grows when "Less than a second" became "1 second" between the two runs.
      const steady = (r: Result): Result => ({ ...r, stdout: r.stdout.replace(/Less than a second|\d+ (second|minute|hour)s?/g, 'N').replace(/ {2,}/g, '  ') });
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
