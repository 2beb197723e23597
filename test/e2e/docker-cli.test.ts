import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DOCKER_CLIENT_MISSING, TestDaemon, type RunOptions, type RunResult } from './harness.js';

/**
 * Issue 7, tried as a new user would: the real docker client (28.2.2) with DOCKER_HOST pointing at
 * a real mini-dockerd. Every command must end (a timeout here is a hang), never panic and never
 * print a raw JSON error body.
 */

const TIMEOUT_MS = 20_000;

/** A command on a pseudo-terminal (`script` from util-linux), typed into like a keyboard. */
class Terminal {
  private readonly child: ChildProcessWithoutNullStreams;
  private text = '';
  private cursor = 0;
  private readonly wakers = new Set<() => void>();
  readonly exited: Promise<number>;

  constructor(command: string, env: NodeJS.ProcessEnv) {
    this.child = spawn('script', ['-qfec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const receive = (d: string): void => {
      this.text += d;
      for (const w of [...this.wakers]) w();
    };
    this.child.stdout.setEncoding('utf8').on('data', receive);
    this.child.stderr.setEncoding('utf8').on('data', receive);
    this.child.stdin.on('error', () => undefined);
    this.exited = new Promise((resolve) => this.child.on('close', (code, signal) => {
      resolve(code ?? (signal ? 128 : 1));
      for (const w of [...this.wakers]) w();
    }));
  }

  get output(): string {
    return this.text;
  }

  /** Types text: keys, so Enter is `\r`. */
  type(keys: string): void {
    this.child.stdin.write(keys);
  }

  /** Waits until the terminal shows `pattern` after the previous match. */
  expect(pattern: RegExp, timeoutMs = 15_000): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const m = pattern.exec(this.text.slice(this.cursor));
        if (m) {
          this.cursor += m.index + m[0].length;
          done();
          resolve(m);
        } else if (this.child.exitCode !== null && this.child.stdout.readableEnded) {
          done();
          reject(new Error(`the terminal closed without showing ${String(pattern)}: ${JSON.stringify(this.text)}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`the terminal did not show ${String(pattern)} in ${timeoutMs} ms: ${JSON.stringify(this.text)}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.wakers.delete(check);
      };
      this.wakers.add(check);
      check();
    });
  }

  /** Waits for the command's exit code (killing it after the timeout: that is a hang). */
  async close(timeoutMs = TIMEOUT_MS): Promise<number> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      this.child.stdin.end();
      clearTimeout(timer);
    }
  }
}

describe('e2e: the docker CLI against mini-dockerd', { skip: DOCKER_CLIENT_MISSING }, () => {
  const d = new TestDaemon('docker-cli');
  let env: NodeJS.ProcessEnv = {};

  /** `docker ARGS`: fails the test on a hang, a Go panic or a raw JSON error body. */
  async function docker(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const started = Date.now();
    const r = await d.docker(args, { timeoutMs: TIMEOUT_MS, ...options, env: { ...env, ...(options.env ?? {}) } });
    const what = `docker ${args.join(' ')}`;
    assert.ok(Date.now() - started < TIMEOUT_MS, `${what} hung: ${JSON.stringify(r)}`);
    assert.doesNotMatch(r.stderr, /panic:|goroutine \d+/, `${what} panicked: ${r.stderr}`);
    assert.doesNotMatch(`${r.stdout}${r.stderr}`, /\{\s*"message"\s*:/, `${what} printed a raw error body`);
    return r;
  }

  /** `docker ARGS` that must succeed; returns its stdout. */
  async function ok(args: readonly string[], options: RunOptions = {}): Promise<string> {
    const r = await docker(args, options);
    assert.equal(r.code, 0, `docker ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  }

  function terminal(command: string): Terminal {
    return new Terminal(command, { ...d.env, ...env, DOCKER_HOST: `unix://${d.socketPath}`, TERM: 'xterm' });
  }

  before(async () => {
    await d.start();
    const config = join(d.root, 'docker-config');
    mkdirSync(config);
    env = { DOCKER_CONFIG: config };
  });
  after(async () => { await d.cleanup(); });

  it('version and info show our server', async () => {
    const version = await ok(['version']);
    assert.match(version, /Server: mini-docker/);
    assert.match(version, /API version:\s+1\.50 \(minimum version 1\.24\)/);
    const info = await ok(['info', '--format', '{{.OSType}} {{.Driver}} {{.Images}}']);
    assert.match(info.trim(), /^linux \S+ \d+$/);
  });

  it('run --rm busybox echo hi prints hi; exit codes 3 and 127; piped stdin', async () => {
    const hi = await docker(['run', '--rm', 'busybox', 'echo', 'hi']);
    assert.deepEqual([hi.code, hi.stdout, hi.stderr], [0, 'hi\n', '']);
    assert.equal((await docker(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3'])).code, 3);
    const missing = await docker(['run', '--rm', 'busybox', 'nosuchcmd']);
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /"nosuchcmd": executable file not found/);
    const piped = await docker(['run', '-i', '--rm', 'busybox', 'cat'], { input: 'x\n' });
    assert.deepEqual([piped.code, piped.stdout], [0, 'x\n']);
    assert.equal(await ok(['ps', '-aq']), '', '--rm removed them all');
  });

  it('run -d, ps, exec (plain, piped, -it), logs, inspect, stop, rm, then events lists it all', async () => {
    const id = (await ok(['run', '-d', '--name', 'web', 'busybox', 'sleep', '1000'])).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const ps = await ok(['ps']);
    assert.match(ps, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/m);
    assert.match(ps, new RegExp(`^${id.slice(0, 12)}\\s+busybox\\s+"sleep 1000"\\s+.*\\s+Up .*\\s+web$`, 'm'));
    assert.match(await ok(['ps', '-a']), /\sweb$/m);
    assert.equal(await ok(['ps', '-q']), `${id.slice(0, 12)}\n`);
    assert.equal(await ok(['ps', '--format', '{{.Names}}']), 'web\n');

    assert.equal(await ok(['exec', 'web', 'hostname']), `${id.slice(0, 12)}\n`);
    // The stdin close and the data often reach the shim together: several tries catch a lost EOF.
    for (let i = 0; i < 3; i++) assert.equal(await ok(['exec', '-i', 'web', 'cat'], { input: 'x\n' }), 'x\n');
    assert.equal((await docker(['exec', 'web', 'sh', '-c', 'exit 5'])).code, 5);

    const t = terminal('docker exec -it web sh');
    await t.expect(/\/ # /);
    t.type('hostname\r');
    await t.expect(new RegExp(`\\r\\n${id.slice(0, 12)}\\r\\n`));
    await t.expect(/\/ # /);
    t.type('exit\r');
    assert.equal(await t.close(), 0, t.output);

    const logs = await docker(['logs', 'web']);
    assert.deepEqual([logs.code, logs.stdout, logs.stderr], [0, '', '']);
    assert.equal(await ok(['inspect', 'web', '--format', '{{.State.Running}}']), 'true\n');
    const stopStarted = Date.now();
    assert.equal(await ok(['stop', '-t', '1', 'web']), 'web\n');
    assert.ok(Date.now() - stopStarted < 8000, 'stop -t 1 kills after a second');
    assert.match(await ok(['ps', '-a', '--format', '{{.Names}} {{.Status}}']), /^web Exited \(137\) .*ago$/m);
    assert.equal(await ok(['rm', 'web']), 'web\n');

    const events = (await ok(['events', '--since', '1m', '--until', '0s'])).split('\n');
    const mine = events.filter((l) => l.includes(id)).map((l) => l.replace(/^\S+ /, ''));
    const attrs = '(image=busybox, name=web)';
    assert.equal(mine[0], `container create ${id} ${attrs}`);
    // As moby: the default bridge's connect (its actor the network, the container an attribute) before the start.
    assert.match(mine[1] ?? '', new RegExp(`^network connect [0-9a-f]{64} \\(container=${id}, name=bridge, type=bridge\\)$`));
    assert.equal(mine[2], `container start ${id} ${attrs}`);
    assert.ok(mine.some((l) => l.startsWith(`container exec_create: hostname ${id} (execID=`) && l.endsWith('image=busybox, name=web)')), mine.join('\n'));
    assert.ok(mine.includes(`container stop ${id} ${attrs}`), mine.join('\n'));
    assert.ok(mine.some((l) => new RegExp(`^container die ${id} \\(execDuration=\\d+, exitCode=137, image=busybox, name=web\\)$`).test(l)), mine.join('\n'));
    assert.equal(mine.at(-1), `container destroy ${id} ${attrs}`);
    const dies = await ok(['events', '--since', '1m', '--until', '0s', '--filter', 'container=web', '--filter', 'event=die', '--format', '{{.Actor.Attributes.exitCode}}']);
    assert.equal(dies, '137\n');
  });

  it('run -it on a terminal: the process has a tty of its own', async () => {
    const t = terminal(`docker run -it --rm busybox sh -c 'tty; echo "[$(stty size)]"'`);
    assert.equal(await t.close(), 0, t.output);
    assert.match(t.output, /^\/dev\/pts\/0\r$/m);
    assert.match(t.output, /^\[\d+ \d+\]\r$/m);
  });

  it('create, start, restart, logs, top, stats, kill, wait, rm -f', async () => {
    // PID 1 has no default signal handlers: the shell traps TERM to stop like a normal process.
    const id = (await ok(['create', '--name', 'c1', 'busybox', 'sh', '-c', 'echo started; trap "exit 143" TERM; while true; do sleep 0.1; done'])).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.match(await ok(['ps', '-a', '--format', '{{.Names}} {{.Status}}']), /^c1 Created$/m);
    assert.equal(await ok(['start', 'c1']), 'c1\n');
    assert.equal(await ok(['restart', '-t', '1', 'c1']), 'c1\n');
    assert.match(await ok(['ps', '--format', '{{.Names}} {{.Status}}']), /^c1 Up /m);
    for (let i = 0; i < 50 && (await ok(['logs', 'c1'])) !== 'started\nstarted\n'; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await ok(['logs', 'c1']), 'started\nstarted\n');
    const top = await ok(['top', 'c1']);
    assert.match(top, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/m);
    assert.match(top, /^root\s+\d+\s+\d+\s.*\ssh -c echo started/m);
    assert.match(await ok(['top', 'c1', '-o', 'pid,args']), /^PID\s+COMMAND\n\d+\s+sh -c echo started/);
    const stats = await ok(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}}', 'c1']);
    assert.match(stats, /^c1 [1-9]\d*$/m);
    assert.equal(await ok(['kill', 'c1']), 'c1\n');
    assert.equal(await ok(['wait', 'c1']), '137\n');
    assert.equal(await ok(['start', 'c1']), 'c1\n');
    assert.equal(await ok(['rm', '-f', 'c1']), 'c1\n');
    assert.equal(await ok(['ps', '-aq']), '');
  });

  it('logs keep stdout and stderr apart; --tail and -t', async () => {
    const r = await docker(['run', '--name', 'lg', 'busybox', 'sh', '-c', 'echo out1; echo out2; echo out3; echo err1 >&2']);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'out1\nout2\nout3\n', 'err1\n']);
    const logs = await docker(['logs', 'lg']);
    assert.deepEqual([logs.stdout, logs.stderr], ['out1\nout2\nout3\n', 'err1\n']);
    // The last two lines of output, whichever stream they were on.
    const tail = await docker(['logs', '--tail', '2', 'lg']);
    assert.deepEqual([tail.stdout, tail.stderr], ['out3\n', 'err1\n']);
    assert.match(await ok(['logs', '-t', 'lg']), /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z out\d\n){3}$/);
    assert.equal(await ok(['rm', 'lg']), 'lg\n');
  });

  it('run -m 64m --cpus 0.5: the limits in HostConfig and in stats', async () => {
    await ok(['run', '-d', '--name', 'lim', '-m', '64m', '--cpus', '0.5', 'busybox', 'sleep', '1000']);
    assert.equal(await ok(['inspect', 'lim', '--format', '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}']), '67108864 500000000\n');
    assert.match(await ok(['stats', '--no-stream', '--format', '{{.MemUsage}}', 'lim']), /\/ 64MiB$/m);
    assert.equal(await ok(['rm', '-f', 'lim']), 'lim\n');
  });

  it('commit, tag, images, export, import, save, rmi, load', async () => {
    assert.equal((await docker(['run', '--name', 'mk', 'busybox', 'sh', '-c', 'echo hi > /hello'])).code, 0);
    assert.match(await ok(['commit', 'mk', 'snap:v1']), /^sha256:[0-9a-f]{64}\n$/);
    assert.equal(await ok(['tag', 'snap:v1', 'snap:v2']), '');
    const images = await ok(['images', '--format', '{{.Repository}}:{{.Tag}}']);
    for (const ref of ['busybox:latest', 'snap:v1', 'snap:v2']) assert.match(images, new RegExp(`^${ref}$`, 'm'));
    assert.match(await ok(['images']), /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/m);

    const flat = join(d.root, 'mk.tar');
    assert.equal(await ok(['export', '-o', flat, 'mk']), '');
    assert.match(await ok(['import', flat, 'flat:v1']), /^sha256:[0-9a-f]{64}\n$/);
    assert.equal(await ok(['run', '--rm', 'flat:v1', 'cat', '/hello']), 'hi\n');

    const saved = join(d.root, 'snap.tar');
    assert.equal(await ok(['save', '-o', saved, 'snap:v1']), '');
    const rmi = await ok(['rmi', 'snap:v1', 'snap:v2']);
    assert.match(rmi, /^Untagged: snap:v1$/m);
    assert.match(rmi, /^Deleted: sha256:/m);
    assert.doesNotMatch(await ok(['images', '--format', '{{.Repository}}']), /^snap$/m);
    assert.equal(await ok(['load', '-i', saved]), 'Loaded image: snap:v1\n');
    assert.equal(await ok(['run', '--rm', 'snap:v1', 'cat', '/hello']), 'hi\n');
    await ok(['rmi', 'flat:v1', 'snap:v1']);
    assert.equal(await ok(['rm', 'mk']), 'mk\n');
  });

  it('container prune and image prune', async () => {
    const exited = (await ok(['create', 'busybox', 'true'])).trim();
    await ok(['run', '--name', 'base', 'busybox', 'true']);
    const dangling = (await ok(['commit', 'base'])).trim();
    assert.match(await ok(['container', 'prune', '-f']), new RegExp(`Deleted Containers:\\n(.*\\n)*${exited}\\n`));
    assert.equal(await ok(['ps', '-aq']), '');
    assert.match(await ok(['image', 'prune', '-f']), new RegExp(`deleted: ${dangling}`));
    assert.doesNotMatch(await ok(['images', '-q', '--no-trunc']), new RegExp(dangling));
  });

  it('errors: one clear line and Docker\'s exit codes, never a hang', async () => {
    const rm = await docker(['rm', 'nosuch']);
    assert.equal(rm.code, 1);
    assert.equal(rm.stderr, 'Error response from daemon: No such container: nosuch\n');
    await ok(['run', '-d', '--name', 'dup', 'busybox', 'sleep', '1000']);
    const dup = await docker(['run', '-d', '--name', 'dup', 'busybox', 'sleep', '1000']);
    assert.equal(dup.code, 125);
    assert.match(dup.stderr, /^docker: Error response from daemon: Conflict\. The container name "\/dup" is already in use/);
    await ok(['rm', '-f', 'dup']);
    const inspect = await docker(['inspect', 'nosuchthing']);
    assert.deepEqual([inspect.code, inspect.stdout.trim(), inspect.stderr], [1, '[]', 'Error: No such object: nosuchthing\n']);
    // An image we lack is pulled first; a registry that refuses (on the loopback: nothing leaves the host) is one line.
    const pull = await docker(['run', '127.0.0.1:1/notpulled:1.0', 'true']);
    assert.equal(pull.code, 125);
    assert.match(pull.stderr, /Unable to find image '127\.0\.0\.1:1\/notpulled:1\.0' locally\ndocker: Error response from daemon: cannot reach registry 127\.0\.0\.1:1: connection refused\n/);
    assert.equal(await ok(['ps', '-aq']), '', 'nothing half-created');
  });

  it('an exec\'s exit code is final when its stream ends: the docker client\'s one inspect reads it, one at a time and many at once', async () => {
    await ok(['run', '-d', '--name', 'exec-codes', 'busybox', 'sleep', '1000']);
    for (let i = 0; i < 20; i++) {
      const r = await docker(['exec', 'exec-codes', 'sh', '-c', 'exit 3']);
      assert.deepEqual([r.code, r.stderr], [3, ''], `round ${i}`);
    }
    // A busy daemon: docker's and ours at once, some with a lot of output, each with its own code.
    for (let round = 0; round < 3; round++) {
      const runs = Array.from({ length: 12 }, async (_, i) => {
        const code = 10 + i;
        const script = i % 3 === 0 ? `seq 1 20000; exit ${code}` : `exit ${code}`;
        const args = ['exec', 'exec-codes', 'sh', '-c', script];
        const r = i % 2 === 0 ? await docker(args) : await d.cli(args, { timeoutMs: TIMEOUT_MS });
        return `${i % 2 === 0 ? 'docker' : 'mini-docker'} exit ${code}: ${r.code} ${r.stdout.length > 0 ? r.stdout.split('\n').length - 1 : 0} lines`;
      });
      const expected = Array.from({ length: 12 }, (_, i) => `${i % 2 === 0 ? 'docker' : 'mini-docker'} exit ${10 + i}: ${10 + i} ${i % 3 === 0 ? 20000 : 0} lines`);
      assert.deepEqual(await Promise.all(runs), expected, `round ${round}`);
    }
    await ok(['rm', '-f', 'exec-codes']);
  });

  it('every answer of the daemon that mini-docker prints as an error is the docker client\'s line, in Docker\'s own words', async () => {
    const id = (await ok(['run', '-d', '--name', 'err-web', 'busybox', 'sleep', '1000'])).trim();
    const running = 'Error response from daemon: cannot remove container "/err-web": container is running: stop the container before removing or force remove';
    const nameInUse = `Error response from daemon: Conflict. The container name "/err-web" is already in use by container "${id}". You have to remove (or rename) that container to be able to reuse that name.`;
    const cases: [readonly string[], readonly string[]][] = [
      [['rm', 'err-nope'], ['Error response from daemon: No such container: err-nope']],
      [['stop', 'err-nope'], ['Error response from daemon: No such container: err-nope']],
      [['logs', 'err-nope'], ['Error response from daemon: No such container: err-nope']],
      [['inspect', '--type', 'container', 'err-nope'], ['Error response from daemon: No such container: err-nope']],
      [['start', 'err-nope'], ['Error response from daemon: No such container: err-nope', 'Error: failed to start containers: err-nope']],
      [['rename', 'err-nope', 'err-new'], ['Error response from daemon: No such container: err-nope', 'Error: failed to rename container named err-nope']],
      [['rmi', 'err-nope'], ['Error response from daemon: No such image: err-nope:latest']],
      [['history', 'err-nope'], ['Error response from daemon: No such image: err-nope:latest']],
      [['inspect', '--type', 'image', 'err-nope'], ['Error response from daemon: No such image: err-nope:latest']],
      [['volume', 'rm', 'err-nope'], ['Error response from daemon: get err-nope: no such volume']],
      [['volume', 'inspect', 'err-nope'], ['Error response from daemon: get err-nope: no such volume']],
      [['network', 'rm', 'err-nope'], ['Error response from daemon: network err-nope not found']],
      [['network', 'inspect', 'err-nope'], ['Error response from daemon: network err-nope not found']],
      [['rm', 'err-web'], [running]],
      [['create', '--name', 'err-web', 'busybox', 'true'], [nameInUse]],
      [['run', '--name', 'err-web', 'busybox', 'true'], [nameInUse]],
      [['inspect', 'err-nope'], ['Error: No such object: err-nope']],
    ];
    // docker prefixes run's error with "docker: " and follows it with a help line; its network rm
    // adds "exit status 1": the error lines are what is compared.
    const errorLines = (stderr: string): string[] => stderr.split('\n').map((l) => l.replace(/^docker: /, '')).filter((l) => l.startsWith('Error'));
    for (const [args, expected] of cases) {
      const theirs = await docker(args);
      const ours = await d.cli(args, { timeoutMs: TIMEOUT_MS });
      const what = args.join(' ');
      assert.deepEqual(errorLines(theirs.stderr), expected, `docker ${what}: ${theirs.stderr}`);
      assert.deepEqual(ours.stderr.split('\n').filter((l) => l !== ''), expected, `mini-docker ${what}: ${ours.stderr}`);
      assert.equal(ours.code, theirs.code, `exit code of ${what}`);
      assert.equal(ours.stdout, theirs.stdout, `stdout of ${what}`);
    }
    await ok(['rm', '-f', 'err-web']);
  });

  // The docker CLI's three waits for run --rm: 1.24 through events, removing the container itself at
  // its die (a failed start's die ends it); 1.25-1.29 through events, for the destroy of the daemon's
  // AutoRemove; from 1.30 wait?condition=removed.
  const flows: Readonly<Record<string, string>> = {
    '1.41': 'wait?condition=removed',
    '1.29': 'wait via events for the destroy of AutoRemove',
    '1.25': 'wait via events for the destroy of AutoRemove',
    '1.24': 'wait via events, client-side --rm',
  };
  for (const [version, flow] of Object.entries(flows)) {
    it(`DOCKER_API_VERSION=${version}: run --rm (${flow})`, async () => {
      const opts = { env: { DOCKER_API_VERSION: version } };
      assert.match(await ok(['version', '--format', '{{.Client.APIVersion}}'], opts), new RegExp(`^${version.replace('.', '\\.')}`));
      const hi = await docker(['run', '--rm', 'busybox', 'echo', 'hi'], opts);
      assert.deepEqual([hi.code, hi.stdout], [0, 'hi\n']);
      assert.equal((await docker(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3'], opts)).code, 3);
      assert.equal((await docker(['run', '--rm', 'busybox', 'nosuchcmd'], opts)).code, 127);
      assert.equal((await docker(['run', '-i', '--rm', 'busybox', 'cat'], { ...opts, input: 'x\n' })).stdout, 'x\n');
      // The 1.24 client removes the container itself after the die event; wait for that to land.
      let left = '';
      for (let i = 0; i < 50 && (left = await ok(['ps', '-aq'])) !== ''; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(left, '', 'every --rm container is gone');
    });
  }
});
