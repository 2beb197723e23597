import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI, TestDaemon, dockerPart, runCommand, until } from './harness.js';

// Issue 5 end to end: container logs through bin/mini-docker (and the docker client) against a
// real daemon: all lines in order, tail, streams, timestamps, time windows, follow, tty, a daemon
// killed with -9 while a container prints, rotation, the none and text-file drivers, restarts.

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A CLI process whose output is watched as it comes: the time each line arrived. */
function watch(d: TestDaemon, args: readonly string[]): {
  lines: { text: string; at: number }[];
  stderr: () => string;
  exited: Promise<number>;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<number>;
} {
  const child = spawn(CLI, args, { env: d.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: { text: string; at: number }[] = [];
  let partial = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    const parts = (partial + s).split('\n');
    partial = parts.pop()!;
    for (const text of parts) lines.push({ text, at: Date.now() });
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => { err += s; });
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 128)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  void exited.then(() => clearTimeout(timer));
  return {
    lines,
    stderr: () => err,
    exited,
    waitFor: (pattern, timeoutMs = 10_000) => until(`a line matching ${pattern} from mini-docker ${args.join(' ')}`, () => lines.find((l) => pattern.test(l.text))?.at, timeoutMs),
  };
}

function numbered(prefix: string, from: number, to: number): string {
  let out = '';
  for (let i = from; i <= to; i++) out += `${prefix}${i}\n`;
  return out;
}

/** Checks a run of "<prefix><n>" lines: 1, 2, 3... with no gap and no repeat; returns the count. */
function assertNumbering(text: string, prefix: string): number {
  const lines = text.split('\n').filter((l) => l !== '');
  lines.forEach((line, i) => {
    if (line !== `${prefix}${i + 1}`) assert.fail(`line ${i + 1} is "${line}" (previous "${lines[i - 1] ?? ''}"): a gap, a repeat or disorder`);
  });
  return lines.length;
}

describe('e2e: container logs (issue 5) through bin/mini-docker and the docker client', () => {
  const d = new TestDaemon('logs');
  before(async () => { await d.start(); });
  after(async () => { await d.cleanup(); });

  it('10,000 numbered lines: logs prints all in order, --tail 3 the last three, stderr on stderr, -t timestamps', async (t) => {
    const run = await d.cli(['run', '-d', '--name', 'ten-k', 'busybox', 'sh', '-c',
      'i=1; while [ $i -le 10000 ]; do echo "line $i"; i=$((i+1)); done; echo "err 1" >&2; echo "err 2" >&2']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal((await d.cli(['wait', 'ten-k'])).stdout.trim(), '0');
    const all = await d.cli(['logs', 'ten-k']);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.stdout, numbered('line ', 1, 10000));
    assert.equal(all.stderr, 'err 1\nerr 2\n');
    // The last three lines of output as stored: stdout and stderr are two pipes, so under load the
    // shim may read the stderr lines before the end of stdout (as with Docker); the three are the
    // ends of their streams, whichever way they interleaved.
    const tail = await d.cli(['logs', '--tail', '3', 'ten-k']);
    const tailOut = tail.stdout.split('\n').filter((l) => l !== '');
    const tailErr = tail.stderr.split('\n').filter((l) => l !== '');
    assert.equal(tailOut.length + tailErr.length, 3, `${tail.stdout}|${tail.stderr}`);
    assert.deepEqual(tailOut, ['line 9998', 'line 9999', 'line 10000'].slice(3 - tailOut.length));
    assert.deepEqual(tailErr, ['err 1', 'err 2'].slice(2 - tailErr.length));
    const tail5 = await d.cli(['logs', '-n', '5', 'ten-k']);
    const tail5Out = tail5.stdout.split('\n').filter((l) => l !== '');
    assert.equal(tail5Out.length + tail5.stderr.split('\n').filter((l) => l !== '').length, 5, `${tail5.stdout}|${tail5.stderr}`);
    assert.deepEqual(tail5Out, numbered('line ', 9996, 10000).trim().split('\n').slice(5 - tail5Out.length));
    assert.equal((await d.cli(['logs', '--tail', '0', 'ten-k'])).stdout, '');
    assert.equal((await d.cli(['logs', '--tail', 'all', 'ten-k'])).stdout.split('\n').length, 10001);
    // A reader that stops early (| head -1): a quiet end with the status of SIGPIPE, no stack trace.
    const piped = await runCommand('bash', ['-c', '"$0" logs ten-k | head -1; echo "status ${PIPESTATUS[0]}"', CLI], { env: d.env });
    assert.equal(piped.stdout, 'line 1\nstatus 141\n');
    assert.doesNotMatch(piped.stderr, /EPIPE|Error|\bat /);
    const stamped = await d.cli(['logs', '-t', '--tail', '4', 'ten-k']);
    // Either interleaving again: the last four may all be stdout's (then stderr prints nothing).
    const stampedLines = [...stamped.stdout.split('\n'), ...stamped.stderr.split('\n')].filter((l) => l !== '');
    assert.equal(stampedLines.length, 4, stamped.stdout + stamped.stderr);
    for (const line of stampedLines) assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (line|err) \d+$/);
    // the docker client through the API's logs route (stdcopy framing): the streams split correctly
    await dockerPart(t, async () => {
      const docker = await d.docker(['logs', '--tail', '5', 'ten-k']);
      assert.equal(docker.code, 0, docker.stderr);
      // the same either-interleaving as above: the five are the ends of their two streams
      const dockerOut = docker.stdout.split('\n').filter((l) => l !== '');
      const dockerErr = docker.stderr.split('\n').filter((l) => l !== '');
      assert.equal(dockerOut.length + dockerErr.length, 5, `${docker.stdout}|${docker.stderr}`);
      assert.deepEqual(dockerOut, numbered('line ', 9996, 10000).trim().split('\n').slice(5 - dockerOut.length));
      assert.deepEqual(dockerErr, ['err 1', 'err 2'].slice(2 - dockerErr.length));
      const dockerAll = await d.docker(['logs', 'ten-k']);
      assert.equal(dockerAll.stdout, numbered('line ', 1, 10000));
      assert.equal(dockerAll.stderr, 'err 1\nerr 2\n');
    });
  });

  it('--since and --until select by the time the daemon received the output (RFC 3339, unix, relative)', async (t) => {
    assert.equal((await d.cli(['run', '--name', 'phases', 'busybox', 'sh', '-c', 'echo early 1; echo early 2; sleep 1.2; echo late 1; echo late 2'])).code, 0);
    const stamped = (await d.cli(['logs', '-t', 'phases'])).stdout.trim().split('\n').map((l) => {
      const space = l.indexOf(' ');
      return { time: l.slice(0, space), text: l.slice(space + 1) };
    });
    assert.deepEqual(stamped.map((s) => s.text), ['early 1', 'early 2', 'late 1', 'late 2']);
    const lateTime = stamped.find((s) => s.text === 'late 1')!.time;
    const earlyTime = stamped.find((s) => s.text === 'early 2')!.time;
    assert.equal((await d.cli(['logs', '--since', lateTime, 'phases'])).stdout, 'late 1\nlate 2\n');
    assert.equal((await d.cli(['logs', '--until', earlyTime, 'phases'])).stdout, 'early 1\nearly 2\n');
    assert.equal((await d.cli(['logs', '--since', '10m', 'phases'])).stdout, 'early 1\nearly 2\nlate 1\nlate 2\n');
    assert.equal((await d.cli(['logs', '--until', '10m', 'phases'])).stdout, '', 'until 10 minutes ago: nothing yet');
    const future = String(Math.floor(Date.now() / 1000) + 3600);
    assert.equal((await d.cli(['logs', '--since', future, 'phases'])).stdout, '');
    const bad = await d.cli(['logs', '--since', 'yesterday', 'phases']);
    assert.notEqual(bad.code, 0);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    // docker's client agrees
    await dockerPart(t, async () => {
      assert.equal((await d.docker(['logs', '--since', lateTime, 'phases'])).stdout, 'late 1\nlate 2\n');
    });
  });

  it('logs -f on a running container shows a new line within a second and returns when it exits', async () => {
    const run = await d.cli(['run', '-d', '--name', 'follow', 'busybox', 'sh', '-c',
      'echo ready; while [ ! -e /tmp/stop ]; do if [ -e /tmp/go ]; then rm /tmp/go; echo "go seen"; fi; usleep 20000; done; echo bye']);
    assert.equal(run.code, 0, run.stderr);
    const follower = watch(d, ['logs', '-f', 'follow']);
    await follower.waitFor(/^ready$/);
    assert.equal((await d.cli(['exec', 'follow', 'touch', '/tmp/go'])).code, 0);
    const asked = Date.now();
    const seen = await follower.waitFor(/^go seen$/, 5000);
    assert.ok(seen - asked < 1000, `the new line took ${seen - asked} ms to show`);
    assert.equal((await d.cli(['exec', 'follow', 'touch', '/tmp/stop'])).code, 0);
    const code = await Promise.race([follower.exited, sleep(10_000).then(() => 'still running')]);
    assert.equal(code, 0, `logs -f after the exit: ${String(code)} ${follower.stderr()}`);
    assert.deepEqual(follower.lines.map((l) => l.text), ['ready', 'go seen', 'bye']);
    // follow of a container that is not running prints the log and returns at once
    const stopped = await d.cli(['logs', '-f', 'follow']);
    assert.equal(stopped.stdout, 'ready\ngo seen\nbye\n');
  });

  it('run without -d shows the output live and keeps it in the log; tty containers\' logs are merged', async (t) => {
    const started = Date.now();
    const fg = watch(d, ['run', '--name', 'fg', 'busybox', 'sh', '-c', 'echo first; sleep 2; echo second']);
    const first = await fg.waitFor(/^first$/);
    assert.equal(await fg.exited, 0, fg.stderr());
    const second = fg.lines.find((l) => l.text === 'second')!.at;
    assert.ok(second - first > 1000, `"first" was shown live (${first - started} ms in), not at the end (${second - started} ms)`);
    assert.equal((await d.cli(['logs', 'fg'])).stdout, 'first\nsecond\n');

    const tty = await d.cli(['run', '-t', '--name', 'tty', 'busybox', 'sh', '-c', 'echo out; echo err >&2']);
    assert.equal(tty.code, 0, tty.stderr);
    assert.equal(tty.stdout, 'out\r\nerr\r\n');
    const logs = await d.cli(['logs', 'tty']);
    assert.equal(logs.stdout, 'out\r\nerr\r\n', 'one stream, as the terminal showed it');
    assert.equal(logs.stderr, '');
    await dockerPart(t, async () => {
      const docker = await d.docker(['logs', 'tty']);
      assert.equal(docker.stdout, 'out\r\nerr\r\n');
    });
  });

  it('daemon killed with -9 while a container prints every 10 ms, restarted 5 s later: every line, in order, once', { timeout: 90_000 }, async () => {
    const run = await d.cli(['run', '-d', '--name', 'ticker', 'busybox', 'sh', '-c',
      'i=1; while [ $i -le 1000 ]; do echo "tick $i"; i=$((i+1)); usleep 10000; done']);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    await until('the first ticks', async () => ((await d.cli(['logs', '--tail', '1', 'ticker'])).stdout.startsWith('tick ') ? true : undefined));
    await sleep(1000);
    await d.kill9();
    await sleep(5000); // the container keeps printing: the shim holds what the daemon has not acknowledged
    await d.start();
    const wait = await d.cli(['wait', 'ticker'], { timeoutMs: 60_000 });
    assert.equal(wait.stdout.trim(), '0', wait.stderr);
    const logs = await d.cli(['logs', 'ticker']);
    assert.equal(assertNumbering(logs.stdout, 'tick '), 1000);
    // and in the file: offsets strictly increasing and contiguous (no chunk stored twice)
    const dir = join(d.dataRoot, 'log.v1.json-file', id);
    const stored = readFileSync(join(dir, `${id}-json.log`), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { log: string; offset: number });
    let offset = 0;
    for (const s of stored) {
      offset += Buffer.byteLength(s.log);
      assert.equal(s.offset, offset, 'each entry ends where the previous ended plus its length');
    }
    assert.match(d.log(), /reconciled: [1-9]\d* reattached/);
  });

  it('--log-opt max-size=1k --log-opt max-file=2: the files stay within the bound and logs shows the newest lines', async () => {
    const run = await d.cli(['run', '-d', '--name', 'rotated', '--log-opt', 'max-size=1k', '--log-opt', 'max-file=2', 'busybox', 'sh', '-c',
      'i=1; while [ $i -le 3000 ]; do echo "row $i"; i=$((i+1)); if [ $((i % 500)) = 0 ]; then usleep 50000; fi; done']);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    const config = JSON.parse((await d.cli(['inspect', '-f', '{{json .HostConfig.LogConfig}}', 'rotated'])).stdout) as { Config: Record<string, string> };
    assert.deepEqual(config.Config, { 'max-size': '1k', 'max-file': '2' });
    const dir = join(d.dataRoot, 'log.v1.json-file', id);
    const check = (): void => {
      if (!existsSync(dir)) return;
      const files = readdirSync(dir);
      assert.ok(files.length <= 2, `files: ${files.join(', ')}`);
      for (const f of files) {
        try {
          assert.ok(statSync(join(dir, f)).size <= 1024, `${f} is ${statSync(join(dir, f)).size} bytes`);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // rotated away between readdir and stat
        }
      }
    };
    // sampled while it writes, then at the end
    for (;;) {
      check();
      const status = (await d.cli(['inspect', '-f', '{{.State.Status}}', 'rotated'])).stdout.trim();
      if (status === 'exited') break;
    }
    check();
    assert.equal(readdirSync(dir).length, 2);
    const logs = (await d.cli(['logs', 'rotated'])).stdout.trim().split('\n');
    assert.equal(logs.at(-1), 'row 3000');
    assert.ok(logs.length >= 10 && logs.length < 500, `${logs.length} lines kept in 2 KiB`);
    logs.forEach((line, i) => assert.equal(line, `row ${3000 - logs.length + 1 + i}`));
    assert.equal((await d.cli(['logs', '--tail', '2', 'rotated'])).stdout, 'row 2999\nrow 3000\n');
    // a bad option is refused before anything is created
    const before = (await d.cli(['ps', '-aq'])).stdout;
    const bad = await d.cli(['run', '--log-opt', 'max-size=10x', 'busybox', 'true']);
    assert.equal(bad.code, 125);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    assert.match(bad.stderr, /max-size/);
    assert.equal((await d.cli(['ps', '-aq'])).stdout, before);
  });

  it('--log-driver none: logs is a clear error; --log-driver text-file works', async (t) => {
    const none = await d.cli(['run', '--name', 'silent', '--log-driver', 'none', 'busybox', 'echo', 'hi']);
    assert.equal(none.stdout, 'hi\n', 'attached output still shows');
    const logs = await d.cli(['logs', 'silent']);
    assert.notEqual(logs.code, 0);
    assert.equal(logs.stdout, '');
    assert.equal(logs.stderr.trim(), 'Error response from daemon: configured logging driver does not support reading');
    await dockerPart(t, async () => {
      const docker = await d.docker(['logs', 'silent']);
      assert.notEqual(docker.code, 0);
      assert.match(docker.stderr, /configured logging driver does not support reading/);
    });

    const text = await d.cli(['run', '--name', 'plain', '--log-driver', 'text-file', 'busybox', 'sh', '-c', 'echo a; echo b >&2; sleep 0.3; printf "c\\td\\n"']);
    assert.equal(text.code, 0, text.stderr);
    const id = (await d.cli(['inspect', '-f', '{{.Id}}', 'plain'])).stdout.trim();
    assert.ok(existsSync(join(d.dataRoot, 'log.v1.text-file', `${id}.log`)));
    const read = await d.cli(['logs', 'plain']);
    assert.equal(read.stdout, 'a\nc\td\n');
    assert.equal(read.stderr, 'b\n');
    assert.equal((await d.cli(['logs', '--tail', '1', 'plain'])).stdout, 'c\td\n');
    await dockerPart(t, async () => {
      assert.equal((await d.docker(['logs', 'plain'])).stdout, 'a\nc\td\n');
    });
  });

  it('a container started again continues its log: offsets go on from the stored one; start -a shows the new run', async (t) => {
    assert.equal((await d.cli(['run', '--name', 'again', 'busybox', 'sh', '-c', 'echo run'])).code, 0);
    assert.equal((await d.cli(['start', 'again'])).code, 0);
    assert.equal((await d.cli(['wait', 'again'])).stdout.trim(), '0');
    const attached = await d.cli(['start', '-a', 'again']);
    assert.equal(attached.code, 0, attached.stderr);
    assert.equal(attached.stdout, 'run\n', 'start -a of an exited container shows its new output');
    let runs = 3;
    await dockerPart(t, async () => {
      const docker = await d.docker(['start', '-a', 'again']);
      assert.equal(docker.stdout, 'run\n');
      runs++;
    });
    assert.equal((await d.cli(['logs', 'again'])).stdout, 'run\n'.repeat(runs));
    const id = (await d.cli(['inspect', '-f', '{{.Id}}', 'again'])).stdout.trim();
    const stored = readFileSync(join(d.dataRoot, 'log.v1.json-file', id, `${id}-json.log`), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { offset: number }).offset);
    assert.deepEqual(stored, Array.from({ length: runs }, (_, i) => 4 * (i + 1)));
    assert.equal((await d.cli(['rm', 'again'])).code, 0);
    assert.ok(!existsSync(join(d.dataRoot, 'log.v1.json-file', id)), 'rm removes the log');
  });
});
