// End-to-end: a container's addresses over its life, through bin/mini-docker and a real daemon: the
// address goes back to the pool at stop (the next container may take it), a start gets one again
// (its last one when free), --ip stays reserved while stopped, and an exit while no daemon ran is
// accounted for by the restart (the fold holds no address of a container that does not run); a
// stop records the exit with its releases (usually in one commit), and a start right after it makes the
// container's pair again (the last run's may still be going, or its deletion still queued); a
// container another runs in (--network container:) gives its address back with its pair deleted.
// network connect / disconnect of a running container edit its /etc/hosts (the daemon's host copy
// the shim binds there, in place: nothing in its layer, never through a symlink it planted); a network
// alias that is no DNS name is refused. As dockerd 20.10: network rm of a network only stopped
// containers are connected to removes it, and their start fails with its 404 until network
// disconnect; network connect of a stopped container shows no event until it starts.
// Traffic goes only to the addresses of containers these tests made.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NETLINK_HELPER } from '../../plugins/network-bridge/netlink-session.js';
import { TestDaemon, until } from './harness.js';

/** The HTTP status the daemon answers a POST with no body. */
function postStatus(socketPath: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'POST' }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A /24 of 10.0.0.0/8 no other test is likely to hold at the same time, its gateway .254: the first address given is .1. */
function randomSubnet(): { subnet: string; base: string } {
  const base = `10.${randomInt(100, 250)}.${randomInt(0, 255)}`;
  return { subnet: `${base}.0/24`, base };
}

describe('e2e: addresses over a container\'s life', () => {
  const d = new TestDaemon('netlife');
  let base = '';
  before(async () => {
    await d.start();
    const net = randomSubnet();
    base = net.base;
    const created = await d.cli(['network', 'create', '--subnet', net.subnet, '--gateway', `${base}.254`, 'life']);
    assert.equal(created.code, 0, created.stderr);
  });
  after(async () => { await d.cleanup(); });

  const ipOf = async (name: string): Promise<string> => {
    const r = await d.cli(['inspect', '-f', '{{.NetworkSettings.Networks.life.IPAddress}}', name]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  };
  const holders = async (): Promise<string[]> => {
    const r = await d.cli(['network', 'inspect', 'life']);
    assert.equal(r.code, 0, r.stderr);
    const [n] = JSON.parse(r.stdout) as { Containers: Record<string, { Name: string; IPv4Address: string }> }[];
    return Object.values(n!.Containers).map((c) => `${c.Name} ${c.IPv4Address}`).sort();
  };
  const run = async (...args: string[]): Promise<void> => {
    const r = await d.cli(['run', '-d', ...args, 'busybox', 'sleep', '600']);
    assert.equal(r.code, 0, r.stderr);
  };
  const ok = async (...args: string[]): Promise<void> => {
    const r = await d.cli(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  };

  const hostEndOf = async (name: string, network: string): Promise<string> => {
    const id = (await d.cli(['inspect', '-f', '{{.Id}}', name])).stdout.trim();
    const netId = (await d.cli(['network', 'inspect', '-f', '{{.Id}}', network])).stdout.trim();
    return `/sys/class/net/mdv${id.slice(0, 7)}${netId.slice(0, 4)}`;
  };

  it('an address whose old pair is still being deleted goes to no other container (its traffic would reach the old namespace); once it is, the next one takes it', async () => {
    // The daemon's netlink helpers, by the PIDs of its children (never by name): the attach
    // session starts with the first attach, the detach session with the first detach.
    const helper = realpathSync(NETLINK_HELPER);
    const helpers = (): number[] => {
      const pid = d.pid!;
      return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number).filter((c) => {
        try {
          const stat = readFileSync(`/proc/${c}/stat`, 'utf8');
          const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
          return ppid === pid && realpathSync(`/proc/${c}/exe`) === helper;
        } catch {
          return false; // gone meanwhile
        }
      }).sort((a, b) => a - b);
    };
    await run('--name', 'warm', '--net', 'life');
    const attachers = helpers();
    assert.equal(attachers.length, 1, 'the attach session runs');
    await ok('rm', '-f', 'warm'); // a detach: the detach session runs from here
    const unlinker = await until('the detach session', () => helpers().find((h) => !attachers.includes(h)));
    await run('--name', 'old', '--net', 'life');
    assert.equal(await ipOf('old'), `${base}.1`);
    process.kill(unlinker, 'SIGSTOP'); // the old pair's deletion waits in its pipe
    try {
      await ok('stop', '-t', '0', 'old');
      await run('--name', 'new', '--net', 'life');
      assert.equal(await ipOf('new'), `${base}.2`, 'the address of old, whose pair\'s deletion is not answered yet, is not given to new');
    } finally {
      process.kill(unlinker, 'SIGCONT');
    }
    await until('the old pair deleted', async () => ((await ipOfNext()) === `${base}.1` ? true : undefined));
    await ok('rm', '-f', 'old', 'new', 'next');
  });

  /** Runs a container "next" on life (removing one of that name first) and gives its address. */
  const ipOfNext = async (): Promise<string> => {
    await d.cli(['rm', '-f', 'next']);
    await run('--name', 'next', '--net', 'life');
    return ipOf('next');
  };

  it('stop gives the address back, the next container takes it, a start gets one again (its last one when free)', async () => {
    await run('--name', 'first', '--net', 'life');
    assert.equal(await ipOf('first'), `${base}.1`);
    await ok('stop', '-t', '1', 'first');
    assert.deepEqual(await holders(), [], 'a stopped container holds no address');
    // Its old pair (same address, same MAC) is deleted after the answer: until then no other container gets the address.
    const firstHostEnd = await hostEndOf('first', 'life');
    await until('the old pair of first gone', () => (existsSync(firstHostEnd) ? undefined : true));
    assert.equal(await ipOf('first'), '', 'inspect shows none while stopped');
    const ps = await d.cli(['ps', '-aq', '--filter', 'network=life']);
    assert.equal(ps.stdout.trim().split('\n').length, 1, 'still connected: ps --filter network finds it');

    await run('--name', 'second', '--network', 'life');
    assert.equal(await ipOf('second'), `${base}.1`, 'the freed address goes to the next container');
    await ok('start', 'first');
    assert.equal(await ipOf('first'), `${base}.2`, 'its last address was taken: the lowest free one');
    assert.deepEqual(await holders(), [`first ${base}.2/24`, `second ${base}.1/24`]);

    await ok('stop', '-t', '1', 'first', 'second');
    await ok('start', 'first');
    assert.equal(await ipOf('first'), `${base}.2`, 'started again: its last address, free, though .1 is lower');
    await ok('start', 'second');
    assert.equal(await ipOf('second'), `${base}.1`);
    // restart (stop, then start) keeps it too, and the events say disconnect then connect, as Docker's.
    await ok('restart', '-t', '1', 'first');
    assert.equal(await ipOf('first'), `${base}.2`);
    const events = await d.cli(['events', '--since', '0', '--until', '0s', '--filter', 'type=network', '--format', '{{.Action}} {{.Actor.Attributes.container}}']);
    const firstId = (await d.cli(['inspect', '-f', '{{.Id}}', 'first'])).stdout.trim();
    const actions = events.stdout.split('\n').filter((l) => l.endsWith(firstId)).map((l) => l.split(' ')[0]);
    assert.deepEqual(actions, ['connect', 'disconnect', 'connect', 'disconnect', 'connect', 'disconnect', 'connect'], events.stdout);
    await ok('rm', '-f', 'first', 'second');
    assert.deepEqual(await holders(), []);
  });

  it('stop records the exit and its releases in one commit (no exec runs to make it two); a start right after makes the same pair again, however soon, each time', async () => {
    await run('--name', 'quick', '--net', 'life');
    const id = (await d.cli(['inspect', '-f', '{{.Id}}', 'quick'])).stdout.trim();
    const netId = (await d.cli(['network', 'inspect', '-f', '{{.Id}}', 'life'])).stdout.trim();
    const hostEnd = `/sys/class/net/mdv${id.slice(0, 7)}${netId.slice(0, 4)}`;
    for (let round = 0; round < 5; round++) {
      await ok('stop', '-t', '0', 'quick');
      assert.deepEqual(await holders(), [], `round ${round}: the address is released when stop answers`);
      await ok('start', 'quick'); // the pair of the run before may still be going: the attach takes it back
      assert.equal(await ipOf('quick'), `${base}.1`);
      const inside = await d.cli(['exec', 'quick', 'ip', '-o', '-4', 'addr', 'show', 'eth0']);
      assert.equal(inside.code, 0, inside.stderr);
      assert.match(inside.stdout, new RegExp(`inet ${base.replaceAll('.', '\\.')}\\.1/24`), `round ${round}: eth0 has its address`);
      assert.equal(readFileSync(`${hostEnd}/ifalias`, 'utf8').trim(), `mini-docker:${id}:${netId}`);
    }
    // The log: each exit's commit holds ContainerExited and the release of its address (frames "<i>/<n>" of one commit).
    const records = readFileSync(join(d.dataRoot, 'events', 'events.log'), 'utf8').split('\n').slice(1).filter((l) => l !== '')
      .map((l) => /^\S+ \d+ (\d+)\/(\d+) (.*)$/.exec(l)!).map((m) => ({ i: Number(m[1]), n: Number(m[2]), e: JSON.parse(m[3]!) as { type: string; data: { id?: string } } }));
    const exits = records.map((r, at) => ({ r, at })).filter(({ r }) => r.e.type === 'ContainerExited' && r.e.data.id === id);
    assert.equal(exits.length, 5);
    for (const { r, at } of exits) {
      const commit = records.slice(at - (r.i - 1), at - (r.i - 1) + r.n).map((x) => `${x.e.type} ${x.e.data.id === id ? 'quick' : x.e.data.id}`);
      assert.ok(commit.includes('ContainerNetworkReleased quick'), `one commit: ${commit.join(', ')}`);
    }
    await ok('rm', '-f', 'quick');
    await until('its pair gone', () => (existsSync(hostEnd) ? undefined : true));
  });

  it('a container whose namespace another one runs in (--network container:) gives its address back only with its pair deleted', async () => {
    await run('--name', 'owner', '--network', 'life');
    const ip = await ipOf('owner');
    await run('--name', 'guest', '--network', 'container:owner');
    const guestIp = await d.cli(['exec', 'guest', 'ip', '-o', '-4', 'addr', 'show']);
    assert.ok(guestIp.stdout.includes(`inet ${ip}/24`), guestIp.stdout);
    await ok('stop', '-t', '0', 'owner');
    assert.deepEqual(await holders(), [], 'the address is released when stop answers');
    const after = await d.cli(['exec', 'guest', 'ip', '-o', '-4', 'addr', 'show']);
    assert.equal(after.code, 0, after.stderr);
    assert.ok(!after.stdout.includes(ip), `the namespace lives on in guest without the released address: ${after.stdout}`);
    await run('--name', 'heir2', '--network', 'life');
    assert.equal(await ipOf('heir2'), ip, 'the address goes to the next container, and nothing else holds it');
    await ok('rm', '-f', 'owner', 'guest', 'heir2');
  });

  it('stop of several containers on several networks at once, then their starts at once: each keeps its eth0 and host end', async () => {
    await ok('network', 'create', 'life2');
    const names = ['many0', 'many1', 'many2', 'many3'];
    for (const [i, name] of names.entries()) await run('--name', name, '--network', i % 2 === 0 ? 'life' : 'life2');
    const ends = await Promise.all(names.map(async (name, i) => {
      const id = (await d.cli(['inspect', '-f', '{{.Id}}', name])).stdout.trim();
      const netId = (await d.cli(['network', 'inspect', '-f', '{{.Id}}', i % 2 === 0 ? 'life' : 'life2'])).stdout.trim();
      return `/sys/class/net/mdv${id.slice(0, 7)}${netId.slice(0, 4)}`;
    }));
    for (let round = 0; round < 3; round++) {
      await Promise.all(names.map((name) => ok('stop', '-t', '0', name)));
      await Promise.all(names.map((name) => ok('start', name)));
      await new Promise((resolve) => setTimeout(resolve, 1000)); // the detaches the stops asked are all answered by now
      for (const [i, name] of names.entries()) {
        const inside = await d.cli(['exec', name, 'ip', '-o', 'link', 'show', 'eth0']);
        assert.equal(inside.code, 0, `round ${round}: ${name} has its eth0: ${inside.stderr}`);
        assert.ok(existsSync(ends[i]!), `round ${round}: the host end of ${name} is there`);
      }
    }
    await ok('rm', '-f', ...names);
    await ok('network', 'rm', 'life2');
  });

  it('--ip stays reserved while its container is stopped; its start takes it again', async () => {
    const fixed = `${base}.50`;
    await run('--name', 'fixed', '--network', 'life', '--ip', fixed);
    assert.equal(await ipOf('fixed'), fixed);
    await ok('stop', '-t', '1', 'fixed');
    assert.deepEqual(await holders(), []);
    const taker = await d.cli(['run', '-d', '--name', 'taker', '--network', 'life', '--ip', fixed, 'busybox', 'sleep', '600']);
    assert.notEqual(taker.code, 0, 'reserved for the stopped container');
    assert.match(taker.stderr, new RegExp(`Address already in use: ${fixed.replaceAll('.', '\\.')}`));
    await ok('start', 'fixed');
    assert.equal(await ipOf('fixed'), fixed);
    await ok('rm', '-f', 'fixed', 'taker');
    await run('--name', 'taker2', '--network', 'life', '--ip', fixed);
    assert.equal(await ipOf('taker2'), fixed, 'free again once its container is removed');
    await ok('rm', '-f', 'taker2');
  });

  it('a container that exits while the daemon is down (kill -9) gives its address back at the restart', async () => {
    await run('--name', 'lost', '--network', 'life');
    const ip = await ipOf('lost');
    const pid = Number((await d.cli(['inspect', '-f', '{{.State.Pid}}', 'lost'])).stdout.trim());
    assert.ok(pid > 0);
    await d.kill9();
    process.kill(pid, 'SIGKILL'); // the container's init, which this test started
    await until('the container\'s init to end', async () => (existsSync(`/proc/${pid}`) ? undefined : true));
    await d.start();
    assert.equal((await d.cli(['inspect', '-f', '{{.State.Status}}', 'lost'])).stdout.trim(), 'exited');
    assert.deepEqual(await holders(), [], 'the fold holds no address of a container that does not run');
    await run('--name', 'heir', '--network', 'life');
    assert.equal(await ipOf('heir'), ip, 'its address is free for the next one');
    await ok('start', 'lost');
    assert.notEqual(await ipOf('lost'), ip);
    await ok('rm', '-f', 'lost', 'heir');
  });

  it('network connect of a running container adds its address and aliases to /etc/hosts, disconnect takes them away; its own lines stay; nothing in its layer', async () => {
    await ok('network', 'create', 'hostsnet');
    await run('--name', 'h', '--network', 'life', '--hostname', 'hbox', '--net-alias', 'hb');
    await run('--name', 'joiner', '--network', 'container:h');
    const cat = async (name: string): Promise<string> => (await d.cli(['exec', name, 'cat', '/etc/hosts'])).stdout;
    const copy = join(d.dataRoot, 'containers', (await d.cli(['inspect', '-f', '{{.Id}}', 'h'])).stdout.trim(), 'hosts');
    const lifeLine = `${await ipOf('h')}\thbox hb\n`; // --net-alias, docker's spelling of --network-alias, is on its line
    assert.ok((await cat('h')).endsWith(lifeLine), await cat('h'));
    await ok('exec', 'h', 'sh', '-c', 'echo "10.9.9.9 mine" >> /etc/hosts');
    const inode = (await d.cli(['exec', 'h', 'stat', '-c', '%i', '/etc/hosts'])).stdout;
    const hostInode = statSync(copy).ino;
    const before = await cat('h');
    assert.ok(before.endsWith(`${lifeLine}10.9.9.9 mine\n`), before);

    await ok('network', 'connect', '--alias', 'visitor', '--alias', 'guest', 'hostsnet', 'h');
    const ip = (await d.cli(['inspect', '-f', '{{.NetworkSettings.Networks.hostsnet.IPAddress}}', 'h'])).stdout.trim();
    assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
    const connected = await cat('h');
    assert.equal(connected, `${before}${ip}\thbox visitor guest\n`, 'its line appended, the rest as it was');
    assert.equal((await d.cli(['exec', 'h', 'stat', '-c', '%i', '/etc/hosts'])).stdout, inode, 'the bound file, written in place');
    assert.equal(statSync(copy).ino, hostInode);
    assert.equal(readFileSync(copy, 'utf8'), connected, 'the daemon\'s host copy is what the container sees');
    assert.deepEqual((await d.cli(['exec', 'h', 'ls', '-a', '/etc'])).stdout.split('\n').filter((f) => f.includes('mini-docker')), [], 'no temp file');
    const diff = await d.cli(['diff', 'h']);
    assert.equal(diff.code, 0, diff.stderr);
    assert.ok(!diff.stdout.includes('/etc/hosts'), `nothing in its writable layer: ${diff.stdout}`);
    assert.ok((await cat('joiner')).includes(`${ip}\thbox visitor guest\n`), 'a container sharing its namespace sees it too');

    await ok('network', 'disconnect', 'hostsnet', 'h');
    const disconnected = await cat('h');
    assert.ok(!disconnected.includes(ip), disconnected);
    assert.equal(disconnected, before, 'its line taken away, the rest as it was');
    assert.ok(!(await cat('joiner')).includes(ip));
    assert.ok(!(await d.cli(['diff', 'h'])).stdout.includes('/etc/hosts'));

    // A start writes a fresh file again: its addresses, none of the container's own lines.
    await ok('restart', '-t', '1', 'h');
    assert.ok((await cat('h')).endsWith(`${await ipOf('h')}\thbox hb\n`));
    await ok('rm', '-f', 'joiner', 'h');
  });

  it('a symlink the container planted at /etc/hosts is never followed: the daemon edits only its host copy', async () => {
    const canary = mkdtempSync(join(tmpdir(), 'td-netlife-canary-'));
    try {
      // CAP_SYS_ADMIN lets it take the bind away (as in Docker) and plant a symlink to a host path there.
      await run('--name', 'sly', '--network', 'life', '--cap-add', 'SYS_ADMIN');
      await ok('exec', 'sly', 'sh', '-c', `umount /etc/hosts && rm /etc/hosts && ln -s ${canary}/planted /etc/hosts`);
      await ok('network', 'connect', 'hostsnet', 'sly');
      const ip = (await d.cli(['inspect', '-f', '{{.NetworkSettings.Networks.hostsnet.IPAddress}}', 'sly'])).stdout.trim();
      const copy = join(d.dataRoot, 'containers', (await d.cli(['inspect', '-f', '{{.Id}}', 'sly'])).stdout.trim(), 'hosts');
      assert.ok(readFileSync(copy, 'utf8').includes(`${ip}\t`), 'the host copy got the line');
      await ok('network', 'disconnect', 'hostsnet', 'sly');
      assert.ok(!readFileSync(copy, 'utf8').includes(`${ip}\t`));
      assert.deepEqual(readdirSync(canary), [], 'nothing written through the symlink');
      const link = (await d.cli(['exec', 'sly', 'readlink', '/etc/hosts'])).stdout.trim();
      assert.equal(link, `${canary}/planted`, 'the container\'s own /etc/hosts is not touched');
      await ok('rm', '-f', 'sly');
    } finally {
      rmSync(canary, { recursive: true, force: true });
    }
  });

  it('network rm of a network whose connected containers are all stopped removes it, as Docker; their start then fails with its 404 until network disconnect', async () => {
    const net = randomSubnet();
    await ok('network', 'create', '--subnet', net.subnet, '--gateway', `${net.base}.254`, 'gone');
    const goneId = (await d.cli(['network', 'inspect', '-f', '{{.Id}}', 'gone'])).stdout.trim();
    await run('--name', 'ran', '--network', 'gone');
    await ok('stop', '-t', '1', 'ran');
    const ranExit = (await d.cli(['inspect', '-f', '{{.State.ExitCode}}', 'ran'])).stdout.trim();
    await ok('create', '--name', 'never', '--network', 'gone', 'busybox', 'sleep', '600');
    await run('--name', 'up', '--network', 'gone');
    const busy = await d.cli(['network', 'rm', 'gone']);
    assert.deepEqual([busy.code, busy.stderr], [1, `Error response from daemon: error while removing network: network gone id ${goneId} has active endpoints\n`], 'a running one still holds it');
    await ok('rm', '-f', 'up');

    const rm = await d.cli(['network', 'rm', 'gone']);
    assert.deepEqual([rm.code, rm.stdout, rm.stderr], [0, 'gone\n', ''], 'only stopped containers were connected');
    // dockerd 20.10: the start of one that ran names the network by id, of one that never ran by the name it gave; 404; State.Error set, ExitCode 128 when it was 0.
    const ran = await d.cli(['start', 'ran']);
    assert.deepEqual([ran.code, ran.stderr], [1, `Error response from daemon: network ${goneId} not found\nError: failed to start containers: ran\n`]);
    const ranState = await d.cli(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}} {{.State.Error}}', 'ran']);
    assert.equal(ranState.stdout, `exited ${ranExit} network ${goneId} not found\n`);
    const never = await d.cli(['start', 'never']);
    assert.deepEqual([never.code, never.stderr], [1, 'Error response from daemon: network gone not found\nError: failed to start containers: never\n']);
    assert.equal((await d.cli(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}} {{.State.Error}}', 'never'])).stdout, 'created 128 network gone not found\n');
    assert.equal(await postStatus(d.socketPath, '/containers/ran/start'), 404, 'the API answers 404, as dockerd');

    // Docker's way out: network disconnect of the removed network (no event), then it starts, with lo only.
    await ok('network', 'disconnect', 'gone', 'ran');
    await ok('start', 'ran');
    assert.equal((await d.cli(['exec', 'ran', 'ls', '/sys/class/net'])).stdout.trim(), 'lo');
    const again = await d.cli(['network', 'disconnect', 'gone', 'ran']);
    assert.deepEqual([again.code, again.stderr], [1, 'Error response from daemon: network gone not found\n']);
    const events = await d.cli(['events', '--since', '0', '--until', '0s', '--filter', 'type=network', '--format', '{{.Action}} {{.Actor.ID}}']);
    const actions = events.stdout.split('\n').filter((l) => l.endsWith(goneId)).map((l) => l.split(' ')[0]);
    assert.equal(actions.at(-1), 'destroy', `nothing after the removal: ${actions.join(' ')}`);
    await ok('rm', '-f', 'ran', 'never');
  });

  it('network disconnect NAME lets go of a removed network even once a new network has its name, as dockerd (it matches the container\'s settings by name)', async () => {
    const first = randomSubnet();
    await ok('network', 'create', '--subnet', first.subnet, '--gateway', `${first.base}.254`, 'reborn');
    const oldId = (await d.cli(['network', 'inspect', '-f', '{{.Id}}', 'reborn'])).stdout.trim();
    await run('--name', 'ghost', '--network', 'reborn');
    const ghostId = (await d.cli(['inspect', '-f', '{{.Id}}', 'ghost'])).stdout.trim();
    await ok('stop', '-t', '1', 'ghost');
    await ok('network', 'rm', 'reborn');
    const second = randomSubnet();
    await ok('network', 'create', '--subnet', second.subnet, '--gateway', `${second.base}.254`, 'reborn');
    const blocked = await d.cli(['start', 'ghost']);
    assert.deepEqual([blocked.code, blocked.stderr], [1, `Error response from daemon: network ${oldId} not found\nError: failed to start containers: ghost\n`]);

    // The name finds the new network, which the container is not on: it lets go of the removed one.
    await ok('network', 'disconnect', 'reborn', 'ghost');
    await ok('start', 'ghost');
    assert.equal((await d.cli(['exec', 'ghost', 'ls', '/sys/class/net'])).stdout.trim(), 'lo');
    const again = await d.cli(['network', 'disconnect', 'reborn', 'ghost']);
    assert.deepEqual([again.code, again.stderr], [1, `Error response from daemon: container ${ghostId} is not connected to network reborn\n`]);
    await ok('rm', '-f', 'ghost');
    await ok('network', 'rm', 'reborn');
  });

  it('network connect of a stopped container shows no event, as Docker: its start shows connect', async () => {
    const net = randomSubnet();
    await ok('network', 'create', '--subnet', net.subnet, '--gateway', `${net.base}.254`, 'quiet');
    await ok('create', '--name', 'calm', '--network', 'life', 'busybox', 'sleep', '600');
    const calmId = (await d.cli(['inspect', '-f', '{{.Id}}', 'calm'])).stdout.trim();
    await ok('network', 'connect', 'quiet', 'calm');
    const onQuiet = async (): Promise<string[]> => {
      const events = await d.cli(['events', '--since', '0', '--until', '0s', '--filter', 'type=network', '--format', '{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.container}}']);
      return events.stdout.split('\n').filter((l) => l.endsWith(`quiet ${calmId}`)).map((l) => l.split(' ')[0]!);
    };
    assert.deepEqual(await onQuiet(), [], 'connected silently');
    const steps = await d.cli(['events', '--steps', '--since', '0', '--until', '0s', '--filter', 'type=network', '--format', '{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.container}}']);
    assert.ok(steps.stdout.includes(`connect quiet ${calmId}`), `the log has it, shown with --steps: ${steps.stdout}`);
    await ok('start', 'calm');
    assert.deepEqual(await onQuiet(), ['connect'], 'its start connects it');
    await ok('stop', '-t', '1', 'calm');
    assert.deepEqual(await onQuiet(), ['connect', 'disconnect']);
    await ok('rm', '-f', 'calm');
    await ok('network', 'rm', 'quiet');
  });

  it('refuses a network alias that is no DNS name, at create and at connect (a line break would add lines to /etc/hosts)', async () => {
    const created = await d.cli(['run', '-d', '--name', 'evil', '--network', 'life', '--network-alias', 'x\n6.6.6.6 bank.example', 'busybox', 'sleep', '600']);
    assert.equal(created.code, 125, created.stderr);
    assert.match(created.stderr, /invalid network alias "x\\n6\.6\.6\.6 bank\.example": only ASCII letters, digits/);
    assert.notEqual((await d.cli(['inspect', 'evil'])).code, 0, 'nothing created');
    await run('--name', 'plain', '--network', 'life');
    const connected = await d.cli(['network', 'connect', '--alias', 'two words', 'hostsnet', 'plain']);
    assert.notEqual(connected.code, 0);
    assert.match(connected.stderr, /invalid network alias "two words"/);
    const inspected = await d.cli(['inspect', 'plain']);
    const [plain] = JSON.parse(inspected.stdout) as { NetworkSettings: { Networks: Record<string, unknown> } }[];
    assert.deepEqual(Object.keys(plain!.NetworkSettings.Networks), ['life'], 'not connected');
    assert.ok(!(await d.cli(['exec', 'plain', 'cat', '/etc/hosts'])).stdout.includes('words'));
    await ok('rm', '-f', 'plain');
  });
});
