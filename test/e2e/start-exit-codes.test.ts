import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TestDaemon } from './harness.js';

/*
 * A start that fails leaves inspect's State.ExitCode and State.Error as dockerd 20.10 does
 * (daemon/start.go: translateContainerdStartErr, then 128 when the exit code was still 0), recorded
 * by the failed start's event: the fold shows it, also after a daemon restart.
 */
describe('e2e: the exit code and error a failed start leaves in inspect', () => {
  const d = new TestDaemon('start-exit-codes');
  const host = mkdtempSync(join(tmpdir(), 'start-exit-codes-'));
  before(async () => { await d.start(); });
  after(async () => {
    await d.cleanup();
    rmSync(host, { recursive: true, force: true });
  });

  const state = async (name: string): Promise<string> => (await d.cli(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}} {{.State.Error}}', name])).stdout.trim();

  /** Creates `name`, starts it (failing) and says the start's exit code and what inspect shows. */
  async function failedStart(name: string, createArgs: readonly string[]): Promise<{ code: number; stderr: string; state: string }> {
    const created = await d.cli(['create', '--name', name, ...createArgs]);
    assert.equal(created.code, 0, created.stderr);
    const started = await d.cli(['start', name]);
    return { code: started.code, stderr: started.stderr, state: await state(name) };
  }

  // `start` exits 1 for any container it could not start, as `docker start` (also `docker start -a`
  // against dockerd 20.10); State.ExitCode carries moby's code.
  it('command not found: 127, named in State.Error; start exits 1', async () => {
    const r = await failedStart('notfound', ['busybox', 'nosuchcmd']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.state, /^created 127 .*exec: "nosuchcmd": executable file not found in \$PATH/);
  });

  it('a file that is not executable: 126; a folder as the command: 126 (dockerd 20.10\'s runc says `exec: "/etc": permission denied`)', async () => {
    const noexec = await failedStart('noexec', ['busybox', '/etc/passwd']);
    assert.equal(noexec.code, 1, noexec.stderr);
    assert.match(noexec.state, /^created 126 .*\/etc\/passwd.*permission denied/);
    const folder = await failedStart('folder', ['busybox', '/etc']);
    assert.equal(folder.code, 1, folder.stderr);
    assert.match(folder.state, /^created 126 .*\/etc/);
  });

  it('run exits with Docker\'s client codes: 127 a command not found (by name and by path), 126 a file not executable and a folder', async () => {
    for (const [command, code] of [['nosuchcmd', 127], ['/bin/nosuch', 127], ['/etc/passwd', 126], ['/etc', 126]] as const) {
      const r = await d.cli(['run', '--rm', 'busybox', command]);
      assert.equal(r.code, code, `${command}: ${r.stderr}`);
    }
  });

  it('a working dir that is a file: 127 (not a directory)', async () => {
    const r = await failedStart('badwd', ['-w', '/etc/passwd', 'busybox', 'true']);
    assert.match(r.state, /^created 127 .*not a directory/i);
  });

  it('a mount that fails (a host file bound onto an image folder): 127, "not a directory", as dockerd 20.10', async () => {
    const file = join(host, 'file');
    writeFileSync(file, 'x');
    const r = await failedStart('badmount', ['-v', `${file}:/etc`, 'busybox', 'true']);
    assert.notEqual(r.code, 0);
    assert.match(r.state, /^created 127 .*not a directory/i);
  });

  it('another failure keeps the exit code of the last run (128 when it was 0), and the fold says so after a restart', async () => {
    const net = await d.cli(['network', 'create', 'sxnet']);
    assert.equal(net.code, 0, net.stderr);
    assert.equal((await d.cli(['run', '--name', 'ran3', '--network', 'sxnet', 'busybox', 'sh', '-c', 'exit 3'])).code, 3);
    assert.equal((await d.cli(['create', '--name', 'never', '--network', 'sxnet', 'busybox', 'true'])).code, 0);
    assert.equal((await d.cli(['network', 'rm', 'sxnet'])).code, 0);
    assert.notEqual((await d.cli(['start', 'ran3'])).code, 0);
    assert.notEqual((await d.cli(['start', 'never'])).code, 0);
    assert.match(await state('ran3'), /^exited 3 network .* not found$/);
    assert.match(await state('never'), /^created 128 network sxnet not found$/);
    assert.equal(await d.stop(), 0);
    await d.start();
    assert.match(await state('ran3'), /^exited 3 network .* not found$/);
    assert.match(await state('notfound'), /^created 127 /);
  });
});
