// E2E: restart policies (--restart) through bin/mini-docker and the docker client, including a
// daemon restart: what Docker users expect from on-failure, always and unless-stopped.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestDaemon, dockerPart, until } from './harness.js';

describe('e2e: restart policies', () => {
  const d = new TestDaemon('restart');
  before(async () => { await d.start(); });
  after(async () => { await d.cleanup(); });

  const state = async (ref: string): Promise<string> => (await d.cli(['inspect', '-f', '{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}', ref])).stdout.trim();

  it('on-failure:2 starts a failing container twice more, then leaves it exited; a success is not restarted', async () => {
    const r = await d.cli(['run', '-d', '--name', 'flaky', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'echo run; exit 3']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await until('two restarts and a final exit', async () => ((await state('flaky')) === 'exited 2 3' ? true : undefined)), true);
    assert.equal((await d.cli(['logs', 'flaky'])).stdout, 'run\nrun\nrun\n');
    assert.equal((await d.cli(['inspect', '-f', '{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}', 'flaky'])).stdout.trim(), 'on-failure:2');
    const events = await d.cli(['events', '--since', '1m', '--until', new Date(Date.now() + 1000).toISOString(), '--filter', 'container=flaky', '--format', '{{.Action}}']);
    assert.deepEqual(events.stdout.trim().split('\n'), ['create', 'start', 'die', 'start', 'die', 'start', 'die']);
    // A manual start counts again from zero, as Docker's RestartCount does.
    assert.equal((await d.cli(['start', 'flaky'])).code, 0);
    assert.equal(await until('the manual run and its two restarts', async () => ((await state('flaky')) === 'exited 2 3' ? true : undefined)), true);
    assert.equal((await d.cli(['rm', 'flaky'])).code, 0);

    assert.equal((await d.cli(['run', '--name', 'fine', '--restart', 'on-failure', 'busybox', 'true'])).code, 0);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await state('fine'), 'exited 0 0');
    assert.equal((await d.cli(['rm', 'fine'])).code, 0);
  });

  it('always restarts until stop; stop cancels a pending restart; rm needs -f while restarting', async () => {
    assert.equal((await d.cli(['run', '-d', '--name', 'loop', '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 0.2; exit 1'])).code, 0);
    await until('two restarts', async () => (Number((await state('loop')).split(' ')[1]) >= 2 ? true : undefined));
    const ps = await d.cli(['ps', '-a', '--filter', 'name=loop', '--format', '{{.Status}}']);
    assert.match(ps.stdout.trim(), /^(Up|Restarting \(1\))/);
    // Catch it between two runs: rm without -f is refused with Docker's words.
    const restarting = await until('a restarting moment', async () => ((await state('loop')).startsWith('restarting') ? true : undefined));
    assert.equal(restarting, true);
    const rm = await d.cli(['rm', 'loop']);
    assert.notEqual(rm.code, 0, 'rm without -f of a restarting (or just restarted) container is refused');
    assert.match(rm.stderr, /You cannot remove a restarting container|container is running/);
    assert.equal((await d.cli(['stop', '-t', '1', 'loop'])).code, 0);
    const stopped = await state('loop');
    assert.match(stopped, /^exited /);
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(await state('loop'), stopped, 'no restart after a stop');
    assert.equal((await d.cli(['rm', 'loop'])).code, 0);
  });

  it('a daemon restart starts unless-stopped containers that died meanwhile, not ones stopped on request', async () => {
    assert.equal((await d.cli(['run', '-d', '--name', 'keep', '--restart', 'unless-stopped', 'busybox', 'sleep', '1000'])).code, 0);
    assert.equal((await d.cli(['run', '-d', '--name', 'halted', '--restart', 'unless-stopped', 'busybox', 'sleep', '1000'])).code, 0);
    assert.equal((await d.cli(['stop', '-t', '0', 'halted'])).code, 0);
    const pid = Number((await d.cli(['inspect', '-f', '{{.State.Pid}}', 'keep'])).stdout.trim());
    await d.kill9();
    process.kill(pid, 'SIGKILL'); // the container dies while no daemon is there
    await d.start();
    const after = await until('keep running again', async () => {
      const [status, count] = (await state('keep')).split(' ');
      return status === 'running' ? count : undefined;
    });
    assert.equal(after, '1');
    assert.notEqual(Number((await d.cli(['inspect', '-f', '{{.State.Pid}}', 'keep'])).stdout.trim()), pid);
    assert.match(await state('halted'), /^exited /);
    assert.equal((await d.cli(['rm', '-f', 'keep', 'halted'])).code, 0);
  });

  it('update --restart gives a running container a policy, and --restart no takes it away', async (t) => {
    // It fails only once told to (a file in its layer, which a restart keeps), so the update always comes first, however slow the machine.
    assert.equal((await d.cli(['run', '-d', '--name', 'later', 'busybox', 'sh', '-c', 'while [ ! -e /go ]; do sleep 0.05; done; exit 4'])).code, 0);
    const updated = await d.cli(['update', '--restart', 'on-failure:1', 'later']);
    assert.equal(updated.code, 0, updated.stderr);
    assert.equal(updated.stdout, 'later\n');
    assert.equal((await d.cli(['exec', 'later', 'touch', '/go'])).code, 0);
    await until('one restart by the new policy', async () => ((await state('later')) === 'exited 1 4' ? true : undefined));
    assert.equal((await d.cli(['update', '--restart', 'no', 'later'])).code, 0);
    assert.equal((await d.cli(['inspect', '-f', '{{.HostConfig.RestartPolicy.Name}}', 'later'])).stdout.trim(), 'no');
    await dockerPart(t, async () => {
      assert.equal((await d.docker(['update', '--restart', 'unless-stopped', 'later'])).code, 0);
      assert.equal((await d.cli(['inspect', '-f', '{{.HostConfig.RestartPolicy.Name}}', 'later'])).stdout.trim(), 'unless-stopped');
    });
    assert.equal((await d.cli(['rm', '-f', 'later'])).code, 0);
    const auto = await d.cli(['create', '--rm', '--name', 'auto', 'busybox', 'true']);
    assert.equal(auto.code, 0, auto.stderr);
    const refused = await d.cli(['update', '--restart', 'always', 'auto']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /Restart policy cannot be updated because AutoRemove is enabled for the container/);
    assert.equal((await d.cli(['rm', 'auto'])).code, 0);
  });

  it('refuses a bad policy and --rm with --restart in one line, creating nothing', async (t) => {
    const before = (await d.cli(['ps', '-aq'])).stdout;
    for (const [args, message] of [
      [['--restart', 'sometimes'], /invalid restart policy 'sometimes'/],
      [['--restart', 'always:3'], /maximum retry count can only be used with 'on-failure'/],
      [['--restart', 'on-failure:x'], /maximum retry count must be an integer/],
      [['--rm', '--restart', 'always'], /Conflicting options: --restart and --rm/],
    ] as const) {
      const r = await d.cli(['run', ...args, 'busybox', 'true']);
      assert.equal(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, message);
    }
    assert.equal((await d.cli(['ps', '-aq'])).stdout, before);
    await dockerPart(t, async () => {
      const r = await d.docker(['run', '-d', '--name', 'viadocker', '--restart', 'on-failure:1', 'busybox', 'sh', '-c', 'exit 5']);
      assert.equal(r.code, 0, r.stderr);
      await until('one restart', async () => ((await state('viadocker')) === 'exited 1 5' ? true : undefined));
      const inspect = await d.docker(['inspect', '-f', '{{.RestartCount}} {{.HostConfig.RestartPolicy.Name}}', 'viadocker']);
      assert.equal(inspect.stdout.trim(), '1 on-failure');
      assert.equal((await d.docker(['rm', 'viadocker'])).code, 0);
    });
  });
});
