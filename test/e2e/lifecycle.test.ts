import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon, dockerPart } from './harness.js';

describe('e2e: container lifecycle through bin/mini-docker', () => {
  const d = new TestDaemon('lifecycle');
  before(async () => { await d.start(); });
  after(async () => { await d.cleanup(); });

  it('run --rm busybox echo hello prints hello and exits 0', async () => {
    const r = await d.cli(['run', '--rm', 'busybox', 'echo', 'hello']);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, 'hello\n');
    assert.equal(r.code, 0);
    const ps = await d.cli(['ps', '-aq']);
    assert.equal(ps.stdout.trim(), '', 'the --rm container is gone');
  });

  it('run exits with the container\'s code; a missing command exits 127', async () => {
    assert.equal((await d.cli(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3'])).code, 3);
    const missing = await d.cli(['run', '--rm', 'busybox', 'nosuchcmd']);
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /nosuchcmd/);
  });

  it('stderr goes to stderr, stdout to stdout', async () => {
    const r = await d.cli(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2']);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
  });

  it('the container is isolated: its own pid 1, hostname, only lo and its own eth0 (the default bridge), no host files', async () => {
    const r = await d.cli(['run', '--rm', '--hostname', 'box', 'busybox', 'sh', '-c',
      'echo pid1=$(cat /proc/1/comm); hostname; ls /sys/class/net; test -e /work && echo host-visible || echo host-hidden']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /pid1=(sh|cat)/);
    assert.match(r.stdout, /^box$/m);
    const interfaces = r.stdout.split('\n').filter((l) => /^(lo|eth\d+|ens\S*|enp\S*|mdbr-\S*|mdv\S*)$/.test(l));
    assert.deepEqual(interfaces, ['eth0', 'lo'], 'none of the host\'s interfaces');
    assert.match(r.stdout, /host-hidden/);
  });

  it('capabilities, no_new_privs, masked /proc, read-only /sys', async () => {
    const r = await d.cli(['run', '--rm', 'busybox', 'sh', '-c',
      'grep -E "^(CapEff|NoNewPrivs)" /proc/self/status; for f in /proc/kcore /proc/keys /proc/timer_list; do [ -e $f ] && echo "masked $(wc -c < $f)"; done; touch /sys/x 2>&1 || echo sys-ro']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /CapEff:\s+00000000a80425fb/);
    assert.match(r.stdout, /NoNewPrivs:\s+0/, 'set only with --security-opt no-new-privileges, as Docker');
    assert.match(r.stdout, /^masked 0$/m);
    assert.doesNotMatch(r.stdout, /^masked [1-9]/m);
    assert.match(r.stdout, /sys-ro|Read-only/);
  });

  it('-e, -w and -u reach the process', async () => {
    const r = await d.cli(['run', '--rm', '-e', 'GREETING=hi there', '-w', '/tmp', '-u', 'nobody', 'busybox', 'sh', '-c', 'echo "$GREETING"; pwd; id -un']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hi there\n/tmp\nnobody\n');
  });

  it('writes stay in the container: a second container from the same image does not see them', async () => {
    assert.equal((await d.cli(['run', '--name', 'writer', 'busybox', 'sh', '-c', 'echo x > /etc/written'])).code, 0);
    const r = await d.cli(['run', '--rm', 'busybox', 'sh', '-c', 'test -e /etc/written && echo seen || echo unseen']);
    assert.equal(r.stdout, 'unseen\n');
    assert.equal((await d.cli(['rm', 'writer'])).code, 0);
  });

  it('run -d, ps, exec, stop, ps -a shows Exited, rm', async () => {
    const run = await d.cli(['run', '-d', '--name', 'web', 'busybox', 'sh', '-c', 'while true; do sleep 1; done']);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const ps = await d.cli(['ps']);
    assert.match(ps.stdout, /CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES/);
    assert.match(ps.stdout, new RegExp(`${id.slice(0, 12)}\\s+busybox\\s+.*Up .*web`));
    const exec = await d.cli(['exec', 'web', 'hostname']);
    assert.equal(exec.code, 0, exec.stderr);
    assert.equal(exec.stdout.trim(), id.slice(0, 12));
    const piped = await d.cli(['exec', '-i', 'web', 'cat'], { input: 'x\n' });
    assert.equal(piped.stdout, 'x\n');
    assert.equal((await d.cli(['exec', 'web', 'sh', '-c', 'exit 7'])).code, 7);
    const stop = await d.cli(['stop', '-t', '1', 'web']);
    assert.equal(stop.code, 0, stop.stderr);
    const psa = await d.cli(['ps', '-a']);
    assert.match(psa.stdout, /Exited \((137|143)\) .*ago\s+web/);
    assert.equal((await d.cli(['ps', '-q'])).stdout.trim(), '');
    const inspect = await d.cli(['inspect', '-f', '{{.State.Running}}', 'web']);
    assert.equal(inspect.stdout.trim(), 'false');
    assert.equal((await d.cli(['rm', id.slice(0, 5)])).code, 0);
    const gone = await d.cli(['rm', 'web']);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /No such container: web/);
  });

  it('fifty short execs in a row, five at a time: every one prints its output and exits 0', async () => {
    const run = await d.cli(['run', '-d', '--name', 'short-execs', 'busybox', 'sleep', '1000']);
    assert.equal(run.code, 0, run.stderr);
    const results: { code: number | null; stdout: string; stderr: string }[] = [];
    for (let round = 0; round < 10; round++) {
      results.push(...(await Promise.all(Array.from({ length: 5 }, () => d.cli(['exec', 'short-execs', 'echo', 'hi'])))));
    }
    const wrong = results.map((r, i) => ({ i, ...r })).filter((r) => r.code !== 0 || r.stdout !== 'hi\n');
    assert.deepEqual(wrong, [], 'every exec printed hi');
    assert.equal(results.length, 50);
    assert.equal((await d.cli(['rm', '-f', 'short-execs'])).code, 0);
  });

  it('rm of a running container needs -f; kill -s; wait returns the code', async () => {
    // PID 1 gets no default signal handlers, so the shell traps TERM to exit like a normal process.
    const id = (await d.cli(['run', '-d', 'busybox', 'sh', '-c', 'trap "exit 143" TERM; while true; do sleep 0.1; done'])).stdout.trim();
    const rm = await d.cli(['rm', id]);
    assert.notEqual(rm.code, 0);
    assert.match(rm.stderr, /container is running/);
    assert.equal((await d.cli(['kill', '-s', 'TERM', id])).code, 0);
    const wait = await d.cli(['wait', id]);
    assert.equal(wait.stdout.trim(), '143');
    assert.equal((await d.cli(['rm', id])).code, 0);
  });

  it('rm -f of a running container kills it first and says so: kill, die, destroy', async () => {
    const id = (await d.cli(['run', '-d', 'busybox', 'sleep', '1000'])).stdout.trim();
    assert.equal((await d.cli(['rm', '-f', id])).code, 0);
    const events = await d.cli(['events', '--since', '5m', '--until', '0s', '--filter', `container=${id}`]);
    const actions = events.stdout.trim().split('\n').map((l) => l.split(' ')[2]);
    assert.deepEqual(actions.slice(-3), ['kill', 'die', 'destroy'], events.stdout);
  });

  it('names are unique; rename; create + start -a', async () => {
    assert.equal((await d.cli(['create', '--name', 'one', 'busybox', 'echo', 'started'])).code, 0);
    const dup = await d.cli(['create', '--name', 'one', 'busybox', 'true']);
    assert.equal(dup.code, 1, 'the daemon refused it: 1, as docker create');
    assert.match(dup.stderr, /already in use/);
    assert.equal((await d.cli(['rename', 'one', 'two'])).code, 0);
    const start = await d.cli(['start', '-a', 'two']);
    assert.equal(start.stdout, 'started\n');
    assert.equal((await d.cli(['rm', 'two'])).code, 0);
  });

  it('bad input: a clear one-line error, non-zero exit, nothing half-created', async () => {
    const before = (await d.cli(['ps', '-aq'])).stdout;
    const noimg = await d.cli(['run', '--pull', 'never', 'nosuchimage', 'true']);
    assert.equal(noimg.code, 125);
    assert.match(noimg.stderr, /No such image/);
    const badmem = await d.cli(['run', '-m', '12q', 'busybox', 'true']);
    assert.equal(badmem.code, 125);
    assert.equal(badmem.stderr.trim().split('\n').length, 1, badmem.stderr);
    assert.equal((await d.cli(['ps', '-aq'])).stdout, before);
  });

  it('--entrypoint "" clears the entrypoint; -w must be absolute; exec -w of a missing folder is 126; a container whose first start failed stays Created; inspect -s', async () => {
    const cleared = await d.cli(['run', '--rm', '--entrypoint', '', 'busybox', 'echo', 'x']);
    assert.equal(cleared.code, 0, cleared.stderr);
    assert.equal(cleared.stdout, 'x\n');
    const relative = await d.cli(['run', '--rm', '-w', 'relative', 'busybox', 'pwd']);
    assert.equal(relative.code, 125);
    assert.equal(relative.stderr, "Error response from daemon: the working directory 'relative' is invalid, it needs to be an absolute path\n");
    assert.equal((await d.cli(['run', '-d', '--name', 'wd', 'busybox', 'sleep', '1000'])).code, 0);
    const missing = await d.cli(['exec', '-w', '/no/such/dir', 'wd', 'pwd']);
    assert.equal(missing.code, 126);
    assert.match(missing.stderr, /chdir to cwd \("\/no\/such\/dir"\) failed: No such file or directory/);
    assert.equal((await d.cli(['exec', 'wd', 'test', '-e', '/no/such/dir'])).code, 1, 'exec made no folder');
    assert.equal((await d.cli(['rm', '-f', 'wd'])).code, 0);
    assert.equal((await d.cli(['create', '--name', 'never', 'busybox', 'nosuchcmd'])).code, 0);
    assert.equal((await d.cli(['start', '-a', 'never'])).code, 127);
    assert.equal((await d.cli(['ps', '-a', '--filter', 'name=never', '--format', '{{.State}} {{.Status}}'])).stdout, 'created Created\n');
    assert.equal((await d.cli(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'never'])).stdout, 'created 127\n');
    assert.equal((await d.cli(['rm', 'never'])).code, 0);
    assert.equal((await d.cli(['run', '--name', 'sized', 'busybox', 'sh', '-c', 'head -c 100000 /dev/zero > /big'])).code, 0);
    const [rw, rootfs] = (await d.cli(['inspect', '-s', '-f', '{{.SizeRw}} {{.SizeRootFs}}', 'sized'])).stdout.trim().split(' ').map(Number);
    assert.ok(rw! >= 100_000 && rw! < 200_000, `SizeRw ${rw}`);
    assert.ok(rootfs! > rw! + 1_000_000, `SizeRootFs ${rootfs} counts the image too`);
    assert.equal((await d.cli(['rm', 'sized'])).code, 0);
  });

  it('-v and --mount bind host paths (read-write, read-only), shown in inspect; bad mounts are refused before anything is made', async (t) => {
    const host = join(d.root, 'bind-host');
    mkdirSync(host);
    writeFileSync(join(host, 'in'), 'from host\n');
    const made = join(d.root, 'made-on-start');
    const rw = await d.cli(['run', '--rm', '-v', `${host}:/data`, '-v', `${made}:/made`, 'busybox', 'sh', '-c', 'cat /data/in; echo back > /data/out; ls -d /made']);
    assert.equal(rw.code, 0, rw.stderr);
    assert.equal(rw.stdout, 'from host\n/made\n');
    assert.equal(readFileSync(join(host, 'out'), 'utf8'), 'back\n');
    assert.ok(existsSync(made), '-v makes a missing host folder, as Docker does');
    const ro = await d.cli(['run', '--rm', '--mount', `type=bind,source=${host},target=/ro,readonly`, 'busybox', 'sh', '-c', 'cat /ro/in; touch /ro/x']);
    assert.equal(ro.code, 1);
    assert.equal(ro.stdout, 'from host\n');
    assert.match(ro.stderr, /Read-only file system/);
    const kept = await d.cli(['create', '--name', 'binder', '-v', `${host}:/data:ro`, 'busybox', 'true']);
    assert.equal(kept.code, 0, kept.stderr);
    const inspect = await d.cli(['inspect', '-f', '{{json .Mounts}} {{json .HostConfig.Binds}}', 'binder']);
    assert.equal(inspect.stdout.trim(), `[{"Type":"bind","Source":"${host}","Destination":"/data","Mode":"ro","RW":false,"Propagation":"rprivate"}] ["${host}:/data:ro"]`);
    assert.equal((await d.cli(['rm', 'binder'])).code, 0);

    const before = (await d.cli(['ps', '-aq'])).stdout;
    for (const [args, message] of [
      [['-v', 'x!:/data'], /^Error response from daemon: create x!: "x!" includes invalid characters for a local volume name, only "\[a-zA-Z0-9\]\[a-zA-Z0-9_.-\]" are allowed\. If you intended to pass a host directory, use absolute path$/],
      [['--mount', `type=bind,source=${join(d.root, 'nope')},target=/x`], /bind source path does not exist/],
      [['--mount', 'type=tmpfs,source=/a,target=/x'], /invalid mount config for type "tmpfs": field Source must not be specified/],
      [['-v', `${host}:/a`, '-v', `${host}:/a`], /Duplicate mount point: \/a/],
    ] as const) {
      const r = await d.cli(['run', ...args, 'busybox', 'true']);
      assert.equal(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr.trim(), message);
    }
    assert.equal((await d.cli(['ps', '-aq'])).stdout, before);
    await dockerPart(t, async () => {
      const docker = await d.docker(['run', '--rm', '-v', `${host}:/data:ro`, 'busybox', 'cat', '/data/in']);
      assert.equal(docker.code, 0, docker.stderr);
      assert.equal(docker.stdout, 'from host\n');
    });
  });
});
