import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { TestDaemon, dockerPart, until } from './harness.js';
import { containerCgroupDirs } from './kernel-agreement.js';

// Issue 4 end to end: resource limits through bin/mini-docker (and the docker client) against a
// real daemon, checked in the kernel's own files and in the container's own view of them
// (/sys/fs/cgroup inside). The development machines are cgroup v1 (hybrid); the same file runs on
// pure cgroup v2 in `npm test`'s guest lane (scripts/vm-test.mjs). A test whose controller is not
// mounted (v1) or not delegated to this process's cgroup (v2) skips and names it.

const CGROUP_ROOT = '/sys/fs/cgroup';
const v2 = existsSync(join(CGROUP_ROOT, 'cgroup.controllers'));

/** Why `controller` cannot be used here, or false when it can. */
function controllerMissing(controller: string): string | false {
  if (!v2) return existsSync(join(CGROUP_ROOT, controller)) ? false : `the cgroup v1 ${controller} controller is not mounted on this host`;
  const own = /^0::(.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1] ?? '/';
  const parent = own.endsWith('/mini-docker-daemon') ? own.slice(0, -'/mini-docker-daemon'.length) : own;
  const available = readFileSync(join(CGROUP_ROOT, parent, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
  return available.includes(controller) ? false : `the cgroup v2 ${controller} controller is not delegated to ${parent}`;
}

/** Skips the test when one of the controllers is missing; true when it may go on. */
function needs(t: TestContext, ...controllers: string[]): boolean {
  for (const c of controllers) {
    const missing = controllerMissing(c);
    if (missing) {
      t.skip(missing);
      return false;
    }
  }
  return true;
}

/** Where a controller's files are inside a container: /sys/fs/cgroup on v2, /sys/fs/cgroup/<controller> on v1. */
function insideDir(controller: string): string {
  return v2 ? CGROUP_ROOT : join(CGROUP_ROOT, controller);
}

/**
 * The container's folder for a v1 controller, computed as the limiter documents it: under the
 * daemon's own cgroup of that hierarchy (read from /proc/<daemon>/cgroup). On v2: the one folder.
 */
function containerCgroup(daemonPid: number, id: string, controller: string): string {
  const lines = readFileSync(`/proc/${daemonPid}/cgroup`, 'utf8').trim().split('\n');
  if (v2) {
    const own = lines.find((l) => l.startsWith('0::'))!.slice(3);
    // The daemon moves itself into a leaf <own>/mini-docker-daemon; containers are its siblings.
    const parent = own.endsWith('/mini-docker-daemon') ? own.slice(0, -'/mini-docker-daemon'.length) : own;
    return join(CGROUP_ROOT, parent, `mini-docker-${id}`);
  }
  const line = lines.find((l) => l.split(':')[1]!.split(',').includes(controller));
  assert.ok(line, `the daemon is in no ${controller} hierarchy`);
  const [, controllers, path] = line.split(':') as [string, string, string];
  const mount = existsSync(join(CGROUP_ROOT, controller)) ? controller : controllers;
  return join(CGROUP_ROOT, mount, path, `mini-docker-${id}`);
}

function readTrim(path: string): string {
  return readFileSync(path, 'utf8').trim();
}

describe('e2e: resource limits (issue 4) through bin/mini-docker and the docker client', () => {
  const d = new TestDaemon('limits');
  before(async () => { await d.start(); });
  after(async () => { await d.cleanup(); });

  it('run -m 32m of a memory hog: exit 137, OOMKilled in inspect, Exited (137) in ps, oom then die in events', async (t) => {
    if (!needs(t, 'memory')) return;
    const since = new Date().toISOString();
    const r = await d.cli(['run', '--name', 'hog', '-m', '32m', 'busybox', 'sh', '-c', 'x=$(head -c 100000000 /dev/zero | tr "\\0" a)']);
    assert.equal(r.code, 137, r.stderr);
    const state = JSON.parse((await d.cli(['inspect', '-f', '{{json .State}}', 'hog'])).stdout) as { OOMKilled: boolean; ExitCode: number; Status: string };
    assert.equal(state.OOMKilled, true);
    assert.equal(state.ExitCode, 137);
    assert.equal(state.Status, 'exited');
    const memory = (await d.cli(['inspect', '-f', '{{.HostConfig.Memory}}', 'hog'])).stdout.trim();
    assert.equal(memory, String(32 * 1024 * 1024));
    const ps = await d.cli(['ps', '-a', '--filter', 'name=hog']);
    assert.match(ps.stdout, /Exited \(137\) .*hog/);
    const id = (await d.cli(['inspect', '-f', '{{.Id}}', 'hog'])).stdout.trim();
    const events = await d.cli(['events', '--since', since, '--until', new Date(Date.now() + 1000).toISOString(), '--filter', `container=${id}`, '--format', '{{.Action}}']);
    assert.equal(events.code, 0, events.stderr);
    const actions = events.stdout.trim().split('\n');
    assert.ok(actions.includes('oom'), `events: ${actions.join(', ')}`);
    assert.ok(actions.indexOf('oom') < actions.indexOf('die'), `oom before die: ${actions.join(', ')}`);
    // the docker client sees the same
    await dockerPart(t, async () => {
      const docker = await d.docker(['inspect', '-f', '{{.State.OOMKilled}} {{.State.ExitCode}}', 'hog']);
      assert.equal(docker.stdout.trim(), 'true 137');
    });
    assert.equal((await d.cli(['rm', 'hog'])).code, 0);
    assert.deepEqual(containerCgroupDirs(id), [], 'no cgroup left after rm');
  });

  it('run --pids-limit 20 with a fork loop: forks beyond the limit fail inside, the host is unharmed', async (t) => {
    if (!needs(t, 'pids')) return;
    // The inner shell starts sleepers until fork fails (busybox sh then exits); the outer one reports
    // how many were started, with builtins only (no fork left), and the limit it was under.
    const r = await d.cli(['run', '--rm', '--pids-limit', '20', 'busybox', 'sh', '-c',
      'sh -c "i=0; while [ \\$i -lt 100 ]; do sleep 30 & i=\\$((i+1)); echo \\$i > /tmp/n; done"; read n < /tmp/n; echo started=$n']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /can't fork|Resource temporarily unavailable/);
    const started = Number(/started=(\d+)/.exec(r.stdout)?.[1]);
    assert.ok(started >= 10 && started < 20, `started ${started} sleepers under a limit of 20 tasks`);
    // the host can still fork, and so can the next container
    assert.equal(spawnSync('true').status, 0);
    assert.equal((await d.cli(['run', '--rm', 'busybox', 'echo', 'ok'])).stdout, 'ok\n');
  });

  it('run -d -c "10000 100000" busy loop: cpu.max inside and out, stats --no-stream shows about 10% CPU; --format json parses; docker stats too', async (t) => {
    if (!needs(t, 'cpu')) return;
    const file = v2 ? 'cpu.max' : 'cpu.cfs_quota_us';
    const run = await d.cli(['run', '-d', '--name', 'busy', '-c', '10000 100000', 'busybox', 'sh', '-c', `cat ${join(insideDir('cpu'), file)}; while :; do :; done`]);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    const cpu = join(containerCgroup(d.pid!, id, 'cpu'), v2 ? 'cpu.max' : 'cpu.cfs_quota_us');
    assert.equal(readTrim(cpu), v2 ? '10000 100000' : '10000');
    // what a runtime inside reads to size itself (the container printed it first)
    const inside = await until('the container\'s first line', async () => (await d.cli(['logs', 'busy'])).stdout || undefined);
    assert.equal(inside.trim(), v2 ? '10000 100000' : '10000');
    // The CPU % compares the cgroup's usage with the machine's over one sample; a guest kernel on a
    // loaded host can misreport the machine's side once, so up to three samples are taken.
    let percent = NaN;
    let table = await d.cli(['stats', '--no-stream']);
    for (let attempt = 0; attempt < 3; attempt++) {
      if (attempt > 0) table = await d.cli(['stats', '--no-stream']);
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS/);
      const row = table.stdout.split('\n').find((l) => l.startsWith(id.slice(0, 12)));
      assert.ok(row, table.stdout);
      percent = Number(/(\d+(?:\.\d+)?)%/.exec(row)![1]);
      if (percent > 1 && percent < 30) break;
    }
    assert.ok(percent > 1 && percent < 30, `CPU ${percent}% under a 10% quota`);
    const json = await d.cli(['stats', '--no-stream', '--format', 'json']);
    assert.equal(json.code, 0, json.stderr);
    const docs = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    const mine = docs.find((x) => x.ID === id.slice(0, 12) || x.Container === id);
    assert.ok(mine, json.stdout);
    assert.equal(mine.Name, 'busy');
    assert.ok(Number.parseFloat(mine.CPUPerc!) < 30, mine.CPUPerc);
    assert.match(mine.MemUsage!, /B \/ /);
    assert.match(mine.PIDs!, /^\d+$/);
    // the Docker API's stats route, through the real docker client
    await dockerPart(t, async () => {
      const docker = await d.docker(['stats', '--no-stream', '--format', '{{json .}}', 'busy']);
      assert.equal(docker.code, 0, docker.stderr);
      const stat = JSON.parse(docker.stdout.trim().split('\n')[0]!) as Record<string, string>;
      assert.equal(stat.Name, 'busy');
      const dockerPercent = Number.parseFloat(stat.CPUPerc!);
      assert.ok(dockerPercent > 1 && dockerPercent < 30, `docker stats CPU ${stat.CPUPerc}`);
      assert.match(stat.MemUsage!, /iB \/ /);
      const dockerTable = await d.docker(['stats', '--no-stream']);
      assert.match(dockerTable.stdout, new RegExp(`${id.slice(0, 12)}\\s+busy\\s+\\d+\\.\\d+%`));
    });
    // cpus/quota conflict on update, in Docker's words
    const conflict = await d.cli(['update', '--cpus', '0.5', 'busy']);
    assert.notEqual(conflict.code, 0);
    assert.match(conflict.stderr, /Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set/);
    assert.equal((await d.cli(['rm', '-f', 'busy'])).code, 0);
    assert.deepEqual(containerCgroupDirs(id), [], 'no cgroup left after rm -f');
  });

  it('update -m 256m --cpus 0.5 on a running container: the cgroup files, inspect and an update event', async (t) => {
    if (!needs(t, 'memory', 'cpu')) return;
    const id = (await d.cli(['run', '-d', '--name', 'upd', 'busybox', 'sleep', '1000'])).stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const memoryFile = join(containerCgroup(d.pid!, id, 'memory'), v2 ? 'memory.max' : 'memory.limit_in_bytes');
    assert.ok(existsSync(memoryFile), memoryFile);
    assert.ok(!['268435456'].includes(readTrim(memoryFile)));
    const since = new Date().toISOString();
    const r = await d.cli(['update', '-m', '256m', '--cpus', '0.5', 'upd']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readTrim(memoryFile), '268435456');
    const cpuDir = containerCgroup(d.pid!, id, 'cpu');
    if (v2) {
      assert.equal(readTrim(join(cpuDir, 'cpu.max')), '50000 100000');
    } else {
      assert.equal(readTrim(join(cpuDir, 'cpu.cfs_quota_us')), '50000');
      assert.equal(readTrim(join(cpuDir, 'cpu.cfs_period_us')), '100000');
    }
    const hc = (await d.cli(['inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}', 'upd'])).stdout.trim();
    assert.equal(hc, '268435456 500000000');
    await dockerPart(t, async () => {
      const docker = await d.docker(['inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}', 'upd']);
      assert.equal(docker.stdout.trim(), '268435456 500000000');
    });
    const events = await d.cli(['events', '--since', since, '--until', new Date(Date.now() + 1000).toISOString(), '--filter', `container=${id}`, '--format', '{{.Action}}']);
    assert.match(events.stdout, /^update$/m);
    // lowering below what is in use or a bad value: refused, nothing changes
    const bad = await d.cli(['update', '-m', '12q', 'upd']);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    assert.notEqual(bad.code, 0);
    assert.equal(readTrim(memoryFile), '268435456');
    assert.equal((await d.cli(['rm', '-f', 'upd'])).code, 0);
    assert.deepEqual(containerCgroupDirs(id), [], 'no cgroup left after rm -f');
  });

  it('exec joins the container\'s cgroup', async (t) => {
    if (!needs(t, 'memory')) return;
    const id = (await d.cli(['run', '-d', '--name', 'ex', '-m', '64m', 'busybox', 'sleep', '1000'])).stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    // Inside (cgroup namespace): the exec'd process is where the container's init is, at the root.
    const inside = await d.cli(['exec', 'ex', 'sh', '-c', 'cat /proc/self/cgroup; echo ---; cat /proc/1/cgroup']);
    assert.equal(inside.code, 0, inside.stderr);
    const [self, init] = inside.stdout.split('---\n') as [string, string];
    const controllers = (text: string): string[] => text.trim().split('\n').filter((l) => !/name=|^0::/.test(l) || v2).sort();
    assert.deepEqual(controllers(self), controllers(init));
    assert.doesNotMatch(self, /\.\./, 'not outside the container\'s cgroup');
    // Outside: the exec'd process is listed in the container's memory cgroup on the host.
    const procs = join(containerCgroup(d.pid!, id, 'memory'), 'cgroup.procs');
    const exec = d.cli(['exec', 'ex', 'sh', '-c', 'sleep 3; echo exec-marker-done']);
    const pid = await until('the exec in the container\'s cgroup', () => readTrim(procs).split('\n').find((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('exec-marker');
      } catch {
        return false;
      }
    }));
    assert.ok(pid);
    assert.equal((await exec).stdout, 'exec-marker-done\n');
    assert.equal((await d.cli(['rm', '-f', 'ex'])).code, 0);
    assert.deepEqual(containerCgroupDirs(id), []);
  });

  it('a container sees its own cgroup, read-only: -m 64m reads 67108864 in /sys/fs/cgroup inside', async (t) => {
    if (!needs(t, 'memory')) return;
    const file = join(insideDir('memory'), v2 ? 'memory.max' : 'memory.limit_in_bytes');
    const r = await d.cli(['run', '--rm', '-m', '64m', 'busybox', 'sh', '-c', `cat ${file}; cat /proc/self/cgroup; touch ${insideDir('memory')}/x 2>/dev/null || echo read-only`]);
    assert.equal(r.code, 0, r.stderr);
    const [limit, ...rest] = r.stdout.trim().split('\n');
    assert.equal(limit, String(64 * 1024 * 1024));
    // the cgroup namespace: its own cgroup is the root
    assert.ok(rest.filter((l) => /:(memory|)?:/.test(l) && !l.includes('name=')).every((l) => l.endsWith(':/')), r.stdout);
    assert.equal(rest.at(-1), 'read-only');
  });

  it('invalid values fail with one line before anything is created', async (t) => {
    const before = (await d.cli(['ps', '-aq'])).stdout;
    for (const [flags, message] of [
      [['-m', '12q'], /invalid value "12q" for --memory/],
      [['--cpus', '0'], /invalid value "0" for --cpus: the minimum is 0.01 CPUs/],
      ...(controllerMissing('cpuset') ? [] : [[['--cpuset-cpus', '99'], /Requested CPUs are not available - requested 99/]] as const),
      [['-m', '4m'], /Minimum memory limit allowed is 6MB|minimum is 6m/i],
      [['-c', 'abc'], /invalid value "abc" for -c/],
    ] as const) {
      const r = await d.cli(['run', ...flags, 'busybox', 'true']);
      assert.equal(r.code, 125, `${flags.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, message);
    }
    // the daemon applies the same rules to API clients
    const cpuset = controllerMissing('cpuset');
    if (cpuset) t.diagnostic(`--cpuset-cpus not tried: ${cpuset}`);
    else await dockerPart(t, async () => {
      const docker = await d.docker(['run', '--cpuset-cpus', '99', 'busybox', 'true']);
      assert.notEqual(docker.code, 0);
      assert.match(docker.stderr, /Requested CPUs are not available/);
    });
    assert.equal((await d.cli(['ps', '-aq'])).stdout, before);
  });

  it('a failed start leaves no cgroup: run -m 32m busybox nosuchcmd exits 127', async (t) => {
    if (!needs(t, 'memory')) return;
    const r = await d.cli(['run', '--name', 'nocmd', '-m', '32m', 'busybox', 'nosuchcmd']);
    assert.equal(r.code, 127);
    assert.match(r.stderr, /nosuchcmd/);
    const id = (await d.cli(['inspect', '-f', '{{.Id}}', 'nocmd'])).stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.deepEqual(containerCgroupDirs(id), []);
    // and a container that did start has its folders until rm
    const live = (await d.cli(['run', '-d', '-m', '32m', 'busybox', 'sleep', '1000'])).stdout.trim();
    assert.ok(containerCgroupDirs(live).length > 0, 'the running container has cgroup folders');
    assert.equal((await d.cli(['rm', '-f', live, 'nocmd'])).code, 0);
    assert.deepEqual(containerCgroupDirs(live), []);
  });
});
