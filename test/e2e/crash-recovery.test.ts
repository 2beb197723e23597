// E2E: the failpoint walk. For every point declared in core/failpoints.ts (FAILPOINTS is iterated,
// so a new point is walked without touching this file), a daemon armed with that point runs its
// command's scenario and dies there with SIGKILL; an unarmed daemon is started on the same roots,
// and then: ps/inspect agree with the kernel (test/e2e/kernel-agreement.ts); what the client saw
// acknowledged is there; what it did not is either done or undone; no exec stays running; the
// container can be started, exec'd into, stopped and removed, and nothing of it is left.
// Each scenario also runs once unarmed, killed with -9 right after its command was acknowledged.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REGISTRY_TOOLS_MISSING, TestRegistry, skopeoPush, writeOciLayout } from '../fixtures/registry-server.js';
import { busyboxRootfsTar } from '../fixtures/test-image.js';
import { buildTar } from '../fixtures/tar-builder.js';
import { FAILPOINTS, FAILPOINTS_ENV, commandOf } from '../../core/failpoints.js';
import { TestDaemon, runCommand, until, type RunResult } from './harness.js';
import { apiGet, assertKernelAgrees, cleanupEverything, containerCgroupDirs, hostView, untilKernelAgrees, inspectAll, type InspectedContainer, type InspectedExec } from './kernel-agreement.js';

/** The registry each pull scenario pushed its image to, by scenario name. */
const registries = new Map<string, TestRegistry>();

/** A loop that ends at once on SIGTERM, so stops are quick. */
const LOOP = ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 1; done'];

interface Scenario {
  /** Makes what the command needs (with an armed daemon: no point of another command is armed). */
  setup(d: TestDaemon, name: string): Promise<void>;
  /** The command under test, through the CLI. */
  act(d: TestDaemon, name: string): Promise<RunResult>;
  /** Whether the client saw the command acknowledged (by default: it exited 0). */
  acknowledged?(result: RunResult): boolean;
  /** False when the container cannot run (a start that must fail): after the checks it is only removed. */
  readonly runnable?: false;
  /** Stops what setup started besides the daemon (a registry). */
  teardown?(name: string): Promise<void>;
  /** After the restart: what `acknowledged` promises, or done-or-undone. */
  verify(d: TestDaemon, name: string, acknowledged: boolean): Promise<void>;
}

async function ok(d: TestDaemon, args: readonly string[]): Promise<RunResult> {
  const r = await d.cli(args);
  assert.equal(r.code, 0, `mini-docker ${args.join(' ')}: ${r.stderr}`);
  return r;
}

async function inspectName(d: TestDaemon, name: string): Promise<InspectedContainer | undefined> {
  const r = await d.cli(['inspect', '--type', 'container', name]);
  if (r.code !== 0) {
    assert.match(r.stderr, /No such (container|object)/, `inspect ${name}: ${r.stderr}`);
    return undefined;
  }
  return (JSON.parse(r.stdout) as InspectedContainer[])[0];
}

/**
 * The daemon's networks and the host agree: every bridge network `network ls` lists has its bridge, and
 * the bridges in the daemon's nft table are exactly those. Returns the network, by name, if listed.
 */
async function networksAgree(d: TestDaemon, name: string): Promise<{ Id: string } | undefined> {
  const ls = await ok(d, ['network', 'ls', '--format', '{{json .}}', '--no-trunc']);
  // host and none are listed too (driver host, null): they have no bridge.
  const listed = ls.stdout.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { ID: string; Name: string; Driver: string }).filter((n) => n.Driver === 'bridge');
  const bridges = listed.map((n) => `mdbr-${n.ID.slice(0, 8)}`).sort();
  for (const b of bridges) assert.ok(existsSync(`/sys/class/net/${b}`), `the bridge ${b} of a listed network is on the host`);
  const set = await runCommand('nft', ['-j', 'list', 'set', 'ip', d.networkTable, 'bridges']);
  assert.equal(set.code, 0, `the daemon's table holds its bridges: ${set.stderr}`);
  const held = (JSON.parse(set.stdout) as { nftables: { set?: { elem?: string[] } }[] }).nftables.flatMap((x) => x.set?.elem ?? []).sort();
  assert.deepEqual(held, bridges, 'the table holds the bridges of the listed networks, no other');
  const found = listed.find((n) => n.Name === name);
  return found ? { Id: found.ID } : undefined;
}

async function mustExist(d: TestDaemon, name: string): Promise<InspectedContainer> {
  const c = await inspectName(d, name);
  assert.ok(c, `container ${name} is there`);
  return c;
}

/** `network rm` of a network made for it: the scenario of `network.after-removed`, and a kill -9 run of its own. */
const NETWORK_RM: Scenario = {
  setup: async (d, name) => { await ok(d, ['network', 'create', name]); },
  act: (d, name) => d.cli(['network', 'rm', name]),
  verify: async (d, name, acknowledged) => {
    const network = await networksAgree(d, name);
    if (acknowledged) assert.equal(network, undefined, 'an acknowledged network rm is gone');
    if (network) await ok(d, ['network', 'rm', name]);
    await networksAgree(d, name);
  },
};

function readFileOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** mini-docker-rootview processes still alive for containers of this daemon (they must die with it). */
async function rootViewsOf(d: TestDaemon): Promise<string[]> {
  const left: string[] = [];
  for (const pid of (await readdir('/proc')).filter((n) => /^\d+$/.test(n))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes('mini-docker-rootview') && cmdline.includes(d.dataRoot)) left.push(`${pid}: ${cmdline.replace(/\0/g, ' ')}`);
  }
  return left;
}

const SCENARIOS: Readonly<Record<string, Scenario>> = {
  cp: {
    // A running container: it is frozen while the copy works (docs/cp.md), so the next daemon must thaw it.
    setup: async (d, name) => {
      await ok(d, ['run', '-d', '--name', name, 'busybox', ...LOOP]);
      const src = join(d.root, `${name}-src`);
      await mkdir(src);
      for (const n of ['one', 'two', 'three', 'four']) await writeFile(join(src, n), `${n}\n`);
    },
    act: (d, name) => d.cli(['cp', join(d.root, `${name}-src`), `${name}:/copied`]),
    verify: async (d, name, acknowledged) => {
      const c = await mustExist(d, name);
      assert.equal(c.State.Status, 'running', 'a copy does not stop its container');
      const frozen = containerCgroupDirs(c.Id).filter((dir) => /FROZEN|FREEZING/.test(readFileOr(join(dir, 'freezer.state'))) || readFileOr(join(dir, 'cgroup.freeze')).trim() === '1');
      assert.deepEqual(frozen, [], 'the container is not left frozen');
      assert.deepEqual(await rootViewsOf(d), [], 'no root view outlives the daemon');
      assert.equal((await readFile('/proc/self/mountinfo', 'utf8')).includes(c.Id), false, 'nothing of the container is mounted on the host');
      const listing = await d.cli(['exec', name, 'sh', '-c', 'ls /copied 2>/dev/null; cat /copied/* 2>/dev/null'], { timeoutMs: 30_000 });
      if (acknowledged) assert.equal(listing.stdout, 'four\none\nthree\ntwo\nfour\none\nthree\ntwo\n', 'an acknowledged copy is whole');
      // A cut one left what it had extracted (as Docker's would), and nothing else: no stray name of ours.
      for (const entry of listing.stdout.split('\n').slice(0, 4).filter((l) => l !== '')) assert.ok(['one', 'two', 'three', 'four'].includes(entry), `only copied files in /copied: ${listing.stdout}`);
      const strays = await d.cli(['exec', name, 'find', '/', '-xdev', '-name', '*mini-docker*'], { timeoutMs: 30_000 });
      assert.equal(strays.stdout, '', 'no temporary file in the container');
    },
  },
  start: {
    setup: async (d, name) => { await ok(d, ['create', '--name', name, 'busybox', ...LOOP]); },
    act: (d, name) => d.cli(['start', name]),
    verify: async (d, name, acknowledged) => {
      const c = await mustExist(d, name);
      if (acknowledged) assert.equal(c.State.Status, 'running', 'an acknowledged start is running');
      else assert.ok(['running', 'created', 'exited'].includes(c.State.Status), `a cut start is done or undone, not ${c.State.Status}`);
    },
  },
  stop: {
    setup: async (d, name) => { await ok(d, ['run', '-d', '--name', name, 'busybox', ...LOOP]); },
    act: (d, name) => d.cli(['stop', '-t', '5', name]),
    verify: async (d, name, acknowledged) => {
      const c = await mustExist(d, name);
      if (acknowledged) assert.equal(c.State.Status, 'exited', 'an acknowledged stop has stopped it');
      else assert.ok(['running', 'exited'].includes(c.State.Status), `a cut stop is done or undone, not ${c.State.Status}`);
    },
  },
  kill: {
    setup: async (d, name) => { await ok(d, ['run', '-d', '--name', name, 'busybox', ...LOOP]); },
    act: (d, name) => d.cli(['kill', name]),
    verify: async (d, name, acknowledged) => {
      const c = await mustExist(d, name);
      if (acknowledged) assert.equal(c.State.Status, 'exited', 'an acknowledged kill has killed it');
      else assert.ok(['running', 'exited'].includes(c.State.Status), `a cut kill is done or undone, not ${c.State.Status}`);
    },
  },
  rm: {
    setup: async (d, name) => { await ok(d, ['run', '-d', '--name', name, 'busybox', ...LOOP]); },
    act: (d, name) => d.cli(['rm', '-f', name]),
    verify: async (d, name, acknowledged) => {
      const c = await inspectName(d, name);
      if (acknowledged) assert.equal(c, undefined, 'an acknowledged rm is gone');
      else if (c) assert.ok(['running', 'exited'].includes(c.State.Status), `a cut rm is done or undone, not ${c.State.Status}`);
    },
  },
  rmi: {
    setup: async (d, name) => {
      await ok(d, ['run', '--name', name, 'busybox', 'sh', '-c', 'echo committed > /committed']);
      await ok(d, ['commit', name, `${name}-image:v1`]);
      await ok(d, ['rm', name]);
    },
    act: (d, name) => d.cli(['rmi', `${name}-image:v1`]),
    verify: async (d, name, acknowledged) => {
      const image = await d.cli(['inspect', '--type', 'image', `${name}-image:v1`]);
      if (acknowledged) assert.notEqual(image.code, 0, 'an acknowledged rmi removed the image');
      if (image.code === 0) {
        const run = await d.cli(['run', '--rm', `${name}-image:v1`, 'cat', '/committed']);
        assert.equal(run.stdout, 'committed\n', `an image a cut rmi left is whole: ${run.stderr}`);
        await ok(d, ['rmi', `${name}-image:v1`]);
      }
    },
  },
  pull: {
    setup: async (d, name) => {
      assert.equal(REGISTRY_TOOLS_MISSING, false, `the pull scenario needs a registry: ${REGISTRY_TOOLS_MISSING}`);
      const registry = await TestRegistry.start(join(d.root, 'registry'));
      registries.set(name, registry);
      const busybox = await readFile((await busyboxRootfsTar()).path);
      // A layer of its own: the busybox layer is in the store already (the daemon's builtin image), and a pull reuses it.
      const own = await buildTar([[{ path: 'crash-pull', type: 'file', mode: 0o644 }, `${name}\n`]]);
      await writeOciLayout(join(d.root, 'layout'), [{ platform: { os: 'linux', architecture: 'amd64' }, layers: [busybox, own], cmd: ['echo', 'pulled'] }], 'v1', false);
      await skopeoPush(join(d.root, 'layout'), 'v1', `${registry.host}/crash/${name}:v1`);
    },
    act: (d, name) => d.cli(['pull', `${registries.get(name)!.host}/crash/${name}:v1`], { timeoutMs: 120_000 }),
    verify: async (d, name, acknowledged) => {
      const ref = `${registries.get(name)!.host}/crash/${name}:v1`;
      const image = await d.cli(['inspect', '--type', 'image', ref]);
      if (acknowledged) assert.equal(image.code, 0, `an acknowledged pull recorded its image: ${image.stderr}`);
      if (image.code === 0) {
        const run = await d.cli(['run', '--rm', ref]);
        assert.equal(run.stdout, 'pulled\n', `a pulled image runs: ${run.stderr}`);
        await ok(d, ['rmi', ref]);
      }
      const again = await d.cli(['pull', ref], { timeoutMs: 120_000 });
      assert.equal(again.code, 0, `the pull works again after the crash: ${again.stderr}`);
      await ok(d, ['rmi', ref]);
    },
    teardown: async (name) => {
      await registries.get(name)?.stop();
      registries.delete(name);
    },
  },
  exec: {
    setup: async (d, name) => { await ok(d, ['run', '-d', '--name', name, 'busybox', ...LOOP]); },
    act: (d, name) => d.cli(['exec', name, 'sh', '-c', 'echo exec-ran; exit 3']),
    acknowledged: (r) => r.code === 3 && r.stdout === 'exec-ran\n',
    verify: async (d, name, acknowledged) => {
      const c = await mustExist(d, name);
      assert.equal(c.State.Status, 'running', 'an exec does not stop its container');
      const execs = await Promise.all((c.ExecIDs ?? []).map((x) => apiGet<InspectedExec>(d.socketPath, `/exec/${x}/json`)));
      for (const x of execs) {
        assert.equal(x.status, 200);
        assert.equal(x.body.Running, false, `exec ${x.body.ID} does not stay running`);
      }
      if (acknowledged) assert.ok(execs.some((x) => x.body.ExitCode === 3), 'the acknowledged exec has its exit code, 3');
    },
  },
  volume: {
    setup: async () => undefined,
    act: (d, name) => d.cli(['volume', 'create', `${name}-vol`]),
    verify: async (d, name, acknowledged) => {
      const listed = (await ok(d, ['volume', 'ls', '-q'])).stdout.split('\n').filter((l) => l !== '');
      if (acknowledged) assert.deepEqual(listed, [`${name}-vol`], 'an acknowledged volume create is there');
      else assert.ok(listed.length === 0 || (listed.length === 1 && listed[0] === `${name}-vol`), `a cut volume create is done or undone: ${listed.join(', ')}`);
      assert.deepEqual(volumeFolders(d), listed, 'the driver keeps exactly the volumes listed (no half volume)');
      if (listed.length > 0) await ok(d, ['volume', 'rm', `${name}-vol`]);
      assert.deepEqual(volumeFolders(d), []);
    },
  },
  network: {
    setup: async () => undefined,
    act: (d, name) => d.cli(['network', 'create', name]),
    verify: async (d, name, acknowledged) => {
      const network = await networksAgree(d, name);
      if (acknowledged) assert.ok(network, 'an acknowledged network create is there');
      if (network) {
        await ok(d, ['network', 'rm', name]);
        assert.equal(existsSync(`/sys/class/net/mdbr-${network.Id.slice(0, 8)}`), false, 'its bridge went with it');
      }
      await networksAgree(d, name);
    },
  },
  'network-rm': NETWORK_RM,
  commit: {
    setup: async (d, name) => {
      await ok(d, ['run', '-d', '--name', name, 'busybox', ...LOOP]);
      await ok(d, ['exec', name, 'sh', '-c', 'echo committed > /committed']);
    },
    act: (d, name) => d.cli(['commit', name, `${name}-image:v1`]),
    verify: async (d, name, acknowledged) => {
      const c = await mustExist(d, name);
      assert.equal(c.State.Status, 'running', 'a commit does not stop its container (nor leaves it paused)');
      const image = await d.cli(['inspect', '--type', 'image', `${name}-image:v1`]);
      if (acknowledged) assert.equal(image.code, 0, `an acknowledged commit made its image: ${image.stderr}`);
      if (image.code === 0) {
        const run = await d.cli(['run', '--rm', `${name}-image:v1`, 'cat', '/committed']);
        assert.equal(run.code, 0, run.stderr);
        assert.equal(run.stdout, 'committed\n', 'the committed image holds the change');
        await ok(d, ['rmi', `${name}-image:v1`]);
      }
    },
  },
};

/** How many elements of the daemon's nft table name the container (published ports carry its id). */
async function portRulesOf(d: TestDaemon, name: string): Promise<number> {
  const c = await mustExist(d, name);
  const listing = await runCommand('nft', ['list', 'table', 'ip', d.networkTable]);
  return listing.code === 0 ? listing.stdout.split('\n').filter((l) => l.includes(c.Id)).length : 0;
}

/**
 * Points whose path a command's plain scenario does not reach get a scenario of their own:
 * `start.after-undo` needs a start step that fails (the command does not exist in the image);
 * `rm.after-volumes` an `rm -v` of a container with an anonymous volume;
 * `start.after-network` a start that publishes a port, so the port's event and rule exist when it dies;
 * `network.after-removed` an rm (the plain `network` scenario is a create);
 * `volume.after-copy-up-entries` a create that mounts an existing, still empty volume at /etc (the
 * plain `volume` scenario is a `volume create`).
 */
const POINT_SCENARIOS: Readonly<Record<string, Scenario>> = {
  'volume.after-copy-up-entries': {
    setup: async (d, name) => { await ok(d, ['volume', 'create', `${name}-vol`]); },
    act: (d, name) => d.cli(['create', '--name', name, '-v', `${name}-vol:/etc`, 'busybox', ...LOOP]),
    verify: async (d, name, acknowledged) => {
      const c = await inspectName(d, name);
      if (acknowledged) assert.ok(c, 'an acknowledged create is there');
      const folder = join(d.dataRoot, 'volume.v1.local', `${name}-vol`, '_data');
      const imageEtc = (await ok(d, ['run', '--rm', 'busybox', 'ls', '/etc'])).stdout.split('\n').filter((l) => l !== '').sort();
      if (!c) {
        assert.deepEqual(readdirSync(folder), [], 'a copy-up cut before its end is emptied: no half-filled volume believed full');
        await ok(d, ['run', '--rm', '-v', `${name}-vol:/etc`, 'busybox', 'true']);
      }
      const filled = readdirSync(folder);
      for (const f of imageEtc) assert.ok(filled.includes(f), `the volume holds the image's /etc/${f} (filled once): ${filled.join(' ')}`);
      assert.equal(readFileSync(join(folder, 'passwd'), 'utf8'), (await ok(d, ['run', '--rm', 'busybox', 'cat', '/etc/passwd'])).stdout);
    },
  },
  'rm.after-volumes': {
    setup: async (d, name) => { await ok(d, ['run', '-d', '--name', name, '-v', '/scratch', 'busybox', ...LOOP]); },
    act: (d, name) => d.cli(['rm', '-f', '-v', name]),
    verify: async (d, name, acknowledged) => {
      const c = await inspectName(d, name);
      if (acknowledged) assert.equal(c, undefined, 'an acknowledged rm is gone');
      assert.equal(c, undefined, 'a removal cut after its volumes is finished at the restart');
      assert.equal((await ok(d, ['volume', 'ls', '-q'])).stdout, '', 'rm -v removed the anonymous volume');
      assert.deepEqual(volumeFolders(d), []);
    },
  },
  'network.after-removed': NETWORK_RM,
  'start.after-network': {
    setup: async (d, name) => { await ok(d, ['create', '--name', name, '-p', '80', 'busybox', ...LOOP]); },
    act: (d, name) => d.cli(['start', name]),
    acknowledged: () => false,
    verify: async (d, name) => {
      const c = await mustExist(d, name);
      assert.ok(['created', 'exited'].includes(c.State.Status), `a start cut after its network step is undone: ${c.State.Status}`);
      const port = await d.cli(['port', name]);
      assert.equal(port.stdout, '', 'no port is published for it in the log');
      assert.equal(await portRulesOf(d, name), 0, 'nor in the nft table');
    },
  },
  'start.after-undo': {
    setup: async (d, name) => { await ok(d, ['create', '--name', name, 'busybox', '/no/such/command']); },
    act: (d, name) => d.cli(['start', name]),
    acknowledged: () => false,
    runnable: false,
    verify: async (d, name) => {
      const c = await mustExist(d, name);
      assert.ok(['created', 'exited'].includes(c.State.Status), `a start that failed is not running: ${c.State.Status}`);
      // Recovery gives the step's failure, not "the daemon stopped", and its exit code by the same rule as without the crash.
      assert.equal(c.State.ExitCode, 127, c.State.Error);
      assert.match(c.State.Error, /\/no\/such\/command.*no such file or directory/);
    },
  },
};

/** The volumes the local driver keeps on disk (one folder each), by name. */
function volumeFolders(d: TestDaemon): string[] {
  const dir = join(d.dataRoot, 'volume.v1.local');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/** After verification: the container (if it is still there) can be used, and then nothing of it is left. */
async function useAndRemove(d: TestDaemon, scenario: Scenario, name: string): Promise<void> {
  const c = await inspectName(d, name);
  if (c) {
    if (scenario.runnable !== false) {
      if (c.State.Status !== 'running') await ok(d, ['start', name]);
      const exec = await ok(d, ['exec', name, 'echo', 'usable']);
      assert.equal(exec.stdout, 'usable\n');
      await ok(d, ['stop', '-t', '5', name]);
      assert.equal((await mustExist(d, name)).State.Status, 'exited');
    }
    await ok(d, ['rm', '-f', name]);
    const view = hostView(d);
    assert.deepEqual(view.shims.filter((s) => s.containerId === c.Id), [], 'no shim left');
    assert.equal(view.cgroups.get(c.Id), undefined, 'no cgroup left');
    assert.equal(view.driverFolders.get(c.Id), undefined, 'no driver folder left');
  }
  assert.deepEqual((await inspectAll(d)).map((x) => x.Name), [], 'nothing else is left');
  await assertKernelAgrees(d);
}

/**
 * Runs `command`'s scenario against a daemon of its own armed with `point` (or, without one,
 * killed with -9 after the command), then restarts it unarmed and checks.
 */
async function walk(command: string, point: string | undefined, name: string): Promise<void> {
  const scenario = (point !== undefined ? POINT_SCENARIOS[point] : undefined) ?? SCENARIOS[command];
  assert.ok(scenario, `failpoint ${point}: the crash walk has no scenario for the command "${command}"; add one to SCENARIOS in test/e2e/crash-recovery.test.ts`);
  const d = new TestDaemon(`crash-${name}`);
  try {
    await walkWith(d, scenario, command, point, name);
  } finally {
    await cleanupEverything(d);
    await scenario.teardown?.(name);
  }
}

async function walkWith(d: TestDaemon, scenario: Scenario, command: string, point: string | undefined, name: string): Promise<void> {
  if (point) d.env[FAILPOINTS_ENV] = point;
  try {
    await d.start();
  } finally {
    delete d.env[FAILPOINTS_ENV];
  }
  await scenario.setup(d, name);
  const result = await scenario.act(d, name);
  if (point) {
    const exit = await until(`the daemon to die at the failpoint ${point}`, () => d.exit, 30_000).catch(() => undefined);
    assert.ok(exit, `the ${command} scenario did not reach the failpoint ${point} (the command said ${result.code}: ${result.stderr.trim()})`);
    assert.equal(exit.signal, 'SIGKILL', `the daemon died at ${point} by SIGKILL, not ${JSON.stringify(exit)}:\n${d.log().slice(-2000)}`);
    if (result.code !== 0) assert.equal(result.stderr.trim().split('\n').length, 1, `a client cut by the crash says so in one line: ${result.stderr}`);
  }
  const acknowledged = scenario.acknowledged ? scenario.acknowledged(result) : result.code === 0;
  if (!point) {
    assert.ok(acknowledged, `${command} was not acknowledged: ${result.code} ${result.stderr}`);
    await d.kill9();
  }
  await d.start();
  await untilKernelAgrees(d, {}, `after ${point ?? `kill -9 after ${command}`}`);
  await scenario.verify(d, name, acknowledged);
  // A command the restart resumed may still be finishing (a cut stop is completed in the background:
  // its process can be dead a moment before its exit is recorded), so agreement is awaited here;
  // useAndRemove checks it once more, when nothing is in flight.
  await untilKernelAgrees(d, {}, 'after the checks');
  await useAndRemove(d, scenario, name);
}

describe('e2e: crash recovery (the failpoint walk)', () => {
  const points = Object.keys(FAILPOINTS);
  it(`walks all ${points.length} failpoints, each by its command's scenario`, async (t) => {
    if (points.length === 0) t.diagnostic('core/failpoints.ts declares no failpoint yet: only the kill -9 runs below check recovery');
    for (const [i, point] of points.entries()) {
      await t.test(point, async () => { await walk(commandOf(point), point, `fp${i}`); });
    }
  });

  it('a --rm container whose failed start was cut (start.after-undo) is removed by the recovery, as after a failed start without a crash', async () => {
    const scenario: Scenario = {
      setup: async (d, name) => { await ok(d, ['create', '--rm', '--name', name, 'busybox', '/no/such/command']); },
      act: (d, name) => d.cli(['start', name]),
      acknowledged: () => false,
      runnable: false,
      verify: async (d, name) => { assert.equal(await inspectName(d, name), undefined, 'the recovery removed the --rm container after its ContainerStartFailed'); },
    };
    const d = new TestDaemon('crash-rm-undo');
    try {
      await walkWith(d, scenario, 'start', 'start.after-undo', 'rm-undo');
    } finally {
      await cleanupEverything(d);
    }
  });

  for (const command of Object.keys(SCENARIOS)) {
    it(`kill -9 right after an acknowledged ${command}: it is there after the restart`, async () => {
      await walk(command, undefined, `k9-${command}`);
    });
  }
});
