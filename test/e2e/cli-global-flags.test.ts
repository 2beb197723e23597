// E2E: bin/mini-docker with the global flags before the command name, as the docker client takes
// them (`mini-docker -H unix://SOCKET ps`), against a real mini-dockerd in a temporary root. The
// CLI's own exec root points elsewhere, so only -H can lead it to that daemon.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TestDaemon, type RunResult } from './harness.js';

describe('e2e: global flags before the command', () => {
  const d = new TestDaemon('globals');
  let host: string;
  /** The CLI with an exec root where no daemon is: it reaches d only through -H. */
  const cli = (args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> => d.cli(args, { env: { MINI_DOCKER_EXEC_ROOT: join(d.root, 'elsewhere'), ...env } });

  before(async () => {
    await d.start();
    host = `unix://${d.socketPath}`;
  });
  after(async () => { await d.cleanup(); });

  it('ps, run, history and inspect reach the daemon -H or --host names before the command, through the bundle and through oclif', async () => {
    const nowhere = await cli(['ps']);
    assert.equal(nowhere.code, 1);
    assert.match(nowhere.stderr, /^Error: cannot reach mini-dockerd at .*elsewhere/, 'without -H the CLI looks elsewhere');
    const made = await cli(['--host', host, 'run', '--name', 'marked', 'busybox', 'echo', 'from', '-H']);
    assert.deepEqual([made.code, made.stdout], [0, 'from -H\n'], made.stderr);
    for (const env of [{}, { MINI_DOCKER_NO_FAST_PATH: '1' }]) {
      for (const args of [['-H', host, 'ps', '-a', '--format', '{{.Names}}'], [`--host=${host}`, 'ps', '-a', '--format', '{{.Names}}'], [`-H${host}`, '--', 'ps', '-a', '--format', '{{.Names}}']]) {
        const r = await cli(args, env);
        assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'marked\n', ''], `${args.join(' ')} ${JSON.stringify(env)}`);
      }
    }
    // history's own -H is --human after the command; the one before it names the daemon
    const human = await cli(['-H', host, 'history', '-H', '--format', '{{.Size}}', 'busybox']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout.split('\n')[0]!, /^\d+(\.\d+)?[kMG]?B$/);
    const raw = await cli(['-H', host, 'history', '-H=false', '--format', '{{.Size}}', 'busybox']);
    assert.equal(raw.code, 0, raw.stderr);
    assert.match(raw.stdout.split('\n')[0]!, /^\d+$/);
    const inspect = await cli(['-D', '-H', host, 'inspect', '-f', '{{.State.Status}}', 'marked']);
    assert.deepEqual([inspect.code, inspect.stdout], [0, 'exited\n'], inspect.stderr);
  });

  it('-D prints a failing command\'s stack trace, --config is where pull reads credentials, a flag on both sides is refused', async () => {
    const quiet = await cli(['-H', host, 'inspect', 'nosuch']);
    assert.deepEqual([quiet.code, quiet.stderr], [1, 'Error: No such object: nosuch\n']);
    const loud = await cli(['-D', '-H', host, 'inspect', 'nosuch']);
    assert.equal(loud.code, 1);
    assert.match(loud.stderr, /^Error: No such object: nosuch\n\w*Error: No such object: nosuch\n {4}at /);
    // pull reads its credentials from --config's folder: a config file there that cannot be parsed fails the pull
    const config = join(d.root, 'docker-config');
    mkdirSync(config, { recursive: true });
    writeFileSync(join(config, 'config.json'), '{ not json');
    const pull = await cli(['--config', config, '-H', host, 'pull', '127.0.0.1:1/none:latest']);
    assert.notEqual(pull.code, 0);
    assert.ok(pull.stderr.includes(`${join(config, 'config.json')} is not valid JSON`), pull.stderr);
    assert.equal(readFileSync(join(config, 'config.json'), 'utf8'), '{ not json', 'read, not written');
    const both = await cli(['-H', host, 'ps', '--host', host]);
    assert.deepEqual([both.code, both.stdout, both.stderr], [125, '', "Error: --host is given both before and after the command name: give it once (see 'mini-docker ps --help')\n"]);
    const unknown = await cli(['--bogus', '-H', host, 'ps']);
    assert.deepEqual([unknown.code, unknown.stdout, unknown.stderr], [125, '', "Error: unknown flag: --bogus (see 'mini-docker --help')\n"]);
    const help = await cli(['-H', host]);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^USAGE\n {2}\$ mini-docker \[COMMAND\]$/m);
  });
});
