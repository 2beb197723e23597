// Integration (root, the kernel): the bridge driver's netlink session (mini-docker-netlink). An
// attach makes the pair in one request (peer inside the namespace with its MAC, address, route; host
// end on the bridge, up, with its alias); requests in flight at once each get their own answer; a
// refused request names the step and the kernel's reason and leaves the session serving; a namespace
// named by a process is entered through its pidfd only while the process is the given parent's child; a host end
// of the same name is taken back when it is the same container's (its alias), refused otherwise; a detach of
// a pair already gone is no error; a closed session starts again on the next request (close() waits
// for the helper to exit); a request unanswered in time fails and its helper is killed and started
// again; a request longer than the helper's line is refused, and an overlong line is one error; the
// session holds the namespace of each pair it made until release or its own end.
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { until } from '../e2e/harness.js';
import { makeNetns, type TestNetns } from '../fixtures/netns.js';
import { NETLINK_HELPER, NetlinkError, NetlinkSession, type NetlinkAttach } from '../../plugins/network-bridge/netlink-session.js';

const exec = promisify(execFile);
const isRoot = process.getuid?.() === 0;

describe('netlink session', { skip: isRoot ? false : 'needs root' }, () => {
  const tag = randomBytes(3).toString('hex');
  const bridge = `mdbr-nl${tag}`;
  const session = new NetlinkSession();
  const spaces: TestNetns[] = [];
  const pair = (ns: TestNetns, n: number, over: Partial<NetlinkAttach> = {}): NetlinkAttach => ({
    netns: ns.path, hostEnd: `mdvnl${tag}${n}`, bridge, mtu: 1450, interface: 'eth0', mac: `02:42:0a:e9:07:0${n}`,
    ip: `10.233.7.${n}`, prefix: 24, gateway: '10.233.7.1', alias: `mini-docker:${tag}${n}:abcd`, ...over,
  });

  before(async () => {
    assert.equal(session.missing(), null, 'the helper is built by npm run build');
    await exec('ip', ['link', 'add', bridge, 'type', 'bridge']);
    await exec('ip', ['addr', 'add', '10.233.7.1/24', 'dev', bridge]);
    await exec('ip', ['link', 'set', bridge, 'up']);
    for (const label of ['nl-a', 'nl-b', 'nl-c']) spaces.push(await makeNetns(label));
  });
  after(async () => {
    await session.close();
    for (const n of spaces) await n.dispose();
    for (let n = 2; n <= 5; n++) await exec('ip', ['link', 'del', `mdvnl${tag}${n}`]).catch(() => undefined);
    await exec('ip', ['link', 'del', bridge]).catch(() => undefined);
  });

  it('attaches: the peer inside with its MAC, MTU, address and default route, lo up; the host end on the bridge, up, with its alias', async () => {
    const a = pair(spaces[0]!, 2);
    await session.attach(a);
    const [link] = JSON.parse(await spaces[0]!.run(['ip', '-json', 'addr', 'show', 'eth0'])) as { address: string; mtu: number; flags: string[]; addr_info: { local: string; prefixlen: number; family: string }[] }[];
    assert.equal(link!.address, a.mac);
    assert.equal(link!.mtu, 1450);
    assert.ok(link!.flags.includes('UP'));
    assert.deepEqual(link!.addr_info.filter((x) => x.family === 'inet').map((x) => `${x.local}/${x.prefixlen}`), ['10.233.7.2/24']);
    assert.match(await spaces[0]!.run(['ip', 'route', 'show', 'default']), /default via 10\.233\.7\.1 dev eth0/);
    assert.match(await spaces[0]!.run(['ip', 'link', 'show', 'lo']), /UP/);
    const host = `/sys/class/net/${a.hostEnd}`;
    assert.equal(readFileSync(`${host}/master/ifindex`, 'utf8'), readFileSync(`/sys/class/net/${bridge}/ifindex`, 'utf8'));
    assert.equal(readFileSync(`${host}/ifalias`, 'utf8').trim(), a.alias);
    // operstate follows the carrier through the kernel's linkwatch, which may batch its events for up to a second
    await until('the host end\'s operstate to be up', () => (/up/.test(readFileSync(`${host}/operstate`, 'utf8')) ? true : undefined));
    // the host reaches the container's address through the bridge
    const { stdout } = await exec('ip', ['route', 'get', '10.233.7.2']);
    assert.match(stdout, new RegExp(`dev ${bridge}`));
  });

  it('answers requests in flight at once each with its own outcome, and goes on after a refused one', async () => {
    const results = await Promise.allSettled([
      session.attach(pair(spaces[1]!, 3, { gateway: null })),
      session.attach(pair(spaces[2]!, 4, { netns: '/proc/nonexistent/ns/net' })),
      session.attach(pair(spaces[2]!, 2, { alias: `mini-docker:${tag}9:abcd` })), // the host end's name is taken by the first test's pair, another container's
      session.attach(pair(spaces[2]!, 4, { bridge: 'mdbr-nosuch' })),
    ]);
    assert.equal(results[0]!.status, 'fulfilled');
    assert.equal((await spaces[1]!.run(['ip', 'route', 'show', 'default'])).trim(), '', 'no gateway: no default route');
    const [, missing, taken, noBridge] = results;
    assert.ok(noBridge!.status === 'rejected' && noBridge.reason instanceof NetlinkError);
    assert.match((noBridge as PromiseRejectedResult).reason.message as string, /bridge mdbr-nosuch: No such device \(the network's bridge is missing: ensureNetwork first\)/);
    assert.ok(missing!.status === 'rejected' && missing.reason instanceof NetlinkError && missing.reason.errno === 2);
    assert.match((missing as PromiseRejectedResult).reason.message as string, /open \/proc\/nonexistent\/ns\/net: No such file or directory/);
    assert.ok(taken!.status === 'rejected' && taken.reason instanceof NetlinkError && taken.reason.errno === 17);
    assert.match((taken as PromiseRejectedResult).reason.message as string, new RegExp(`mdvnl${tag}2: a device of that name exists and is not this container's \\(alias "mini-docker:${tag}2:abcd"\\)`));
    assert.equal(readFileSync(`/sys/class/net/mdvnl${tag}2/ifalias`, 'utf8').trim(), `mini-docker:${tag}2:abcd`, 'the other container\'s pair is left as it was');
    assert.match(await spaces[0]!.run(['ip', 'link', 'show', 'eth0']), /eth0/);
    assert.equal(existsSync(`/sys/class/net/mdvnl${tag}4`), false, 'nothing of the refused attach was made');
  });

  it('takes back the same container\'s pair of an earlier run that is still there (same name and alias), and makes the new one', async () => {
    // The pair of spaces[0] stands for the pair of the container's last run, whose deletion the exit did not wait for.
    const again = pair(spaces[2]!, 2);
    await session.attach(again);
    assert.doesNotMatch(await spaces[0]!.run(['ip', 'link']), /eth0/, 'the earlier pair is gone');
    assert.match(await spaces[2]!.run(['ip', '-json', 'addr', 'show', 'eth0']), /10\.233\.7\.2/);
    assert.equal(readFileSync(`/sys/class/net/${again.hostEnd}/ifalias`, 'utf8').trim(), again.alias);
    // back where the next test expects it: the pair in spaces[0]
    await session.detach(again.hostEnd);
    await session.attach(pair(spaces[0]!, 2));
  });

  it('attaches into the namespace of a process named by pid and checked by its parent; refuses one that is not that parent\'s child, and one that is gone', async () => {
    const child = spawn('unshare', ['--net', 'sleep', '1000'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const pid = child.pid!;
    try {
      await until('the process in a namespace of its own', () => (existsSync(`/proc/${pid}`) && readlinkSync(`/proc/${pid}/ns/net`) !== readlinkSync('/proc/self/ns/net') ? true : undefined));
      const inProcess = pair(spaces[1]!, 5, { netns: `pid:${pid}:${process.pid}`, gateway: null });
      await assert.rejects(session.attach({ ...inProcess, netns: `pid:${pid}:1` }), new RegExp(`process ${pid} is not the container's: its parent is ${process.pid}, not the container's shim 1`));
      assert.equal(existsSync(`/sys/class/net/${inProcess.hostEnd}`), false, 'nothing made for a refused process');
      await session.attach(inProcess);
      const { stdout } = await exec('nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', '-o', '-4', 'addr', 'show', 'eth0']);
      assert.match(stdout, /10\.233\.7\.5\/24/, 'the peer is inside the process\'s namespace');
      await session.detach(inProcess.hostEnd);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    // Reaped: its pid names no process (or, reused, one that is not our child).
    await assert.rejects(session.attach(pair(spaces[1]!, 5, { netns: `pid:${pid}:${process.pid}` })), /the container's process is gone|is not the container's/);
    await assert.rejects(session.attach(pair(spaces[1]!, 5, { netns: 'pid:12x:1' })), /bad namespace pid:12x:1/);
  });

  it('holds the namespace of each pair it made until release or its own end: the pair outlives the namespace\'s last process; a release or detach naming another alias leaves the pair and its hold', async () => {
    const held = new NetlinkSession();
    const children: { child: ChildProcess; exited: Promise<unknown> }[] = [];
    const inOwnNetns = async (): Promise<number> => {
      const child = spawn('unshare', ['--net', 'sleep', '1000'], { stdio: 'ignore' });
      children.push({ child, exited: new Promise((resolve) => child.once('exit', resolve)) });
      const pid = child.pid!;
      await until('the process in a namespace of its own', () => (existsSync(`/proc/${pid}`) && readlinkSync(`/proc/${pid}/ns/net`) !== readlinkSync('/proc/self/ns/net') ? true : undefined));
      return pid;
    };
    const gone = (hostEnd: string): Promise<true> => until(`${hostEnd} gone with its namespace`, () => (existsSync(`/sys/class/net/${hostEnd}`) ? undefined : true));
    try {
      const [control, kept, untilEnd] = [pair(spaces[1]!, 6, { gateway: null }), pair(spaces[1]!, 7, { gateway: null }), pair(spaces[1]!, 8, { gateway: null })];
      for (const p of [control, kept, untilEnd]) await held.attach({ ...p, netns: `pid:${await inOwnNetns()}:${process.pid}` });
      await held.release(control.hostEnd); // the control: its namespace now lives only by its process
      await held.release(`mdvnl${tag}0`); // one it does not hold: no error
      // Another container's undo (its id shares this one's first characters: the same host-end
      // name; its attach was refused with EEXIST) names its own alias: this pair and its hold stay.
      const other = `mini-docker:${tag}7other:abcd`;
      await held.release(kept.hostEnd, other);
      await held.detach(kept.hostEnd, other);
      assert.equal(existsSync(`/sys/class/net/${kept.hostEnd}`), true, 'a detach by another alias leaves the pair');
      for (const { child, exited } of children) {
        child.kill('SIGKILL');
        await exited;
      }
      await gone(control.hostEnd);
      assert.equal(existsSync(`/sys/class/net/${kept.hostEnd}`), true, 'the held namespace (and its pair) outlived its last process');
      assert.equal(existsSync(`/sys/class/net/${untilEnd.hostEnd}`), true);
      await held.release(kept.hostEnd, kept.alias); // its own alias
      await gone(kept.hostEnd);
      assert.equal(existsSync(`/sys/class/net/${untilEnd.hostEnd}`), true, 'a release lets go of its own namespace only');
      await held.close(); // the session's end lets go of every namespace it held
      await gone(untilEnd.hostEnd);
    } finally {
      for (const { child, exited } of children) {
        child.kill('SIGKILL');
        await exited;
      }
      await held.close();
    }
  });

  it('detaches: the pair goes (its peer too); detaching again is no error; a word with a space is refused; a closed session refuses a request and starts no helper', async () => {
    await session.detach(`mdvnl${tag}2`);
    assert.equal(existsSync(`/sys/class/net/mdvnl${tag}2`), false);
    assert.doesNotMatch(await spaces[0]!.run(['ip', 'link']), /eth0/);
    await session.detach(`mdvnl${tag}2`);
    await assert.rejects(session.attach(pair(spaces[0]!, 2, { alias: 'two words' })), /is not one word/);
    const pid = session.pid;
    assert.ok(pid !== undefined);
    await session.close();
    assert.equal(existsSync(`/proc/${pid}`), false, 'close() waited for the helper to exit');
    // After close (the daemon's shutdown) nothing starts a helper nobody would close.
    await assert.rejects(session.detach(`mdvnl${tag}3`), /netlink session: closed, "detach" not sent/);
    assert.equal(session.pid, undefined, 'no helper started after close()');
    const other = new NetlinkSession();
    try {
      await other.detach(`mdvnl${tag}3`);
    } finally {
      await other.close();
    }
    assert.equal(existsSync(`/sys/class/net/mdvnl${tag}3`), false);
  });

  it('a request with no answer in time fails naming it; its helper is killed by PID, what queued behind it fails, a new helper answers the next', async () => {
    const timeoutMs = 3000;
    const stuck = new NetlinkSession(NETLINK_HELPER, timeoutMs);
    try {
      await stuck.detach(`mdvnl${tag}9`); // started; a pair that is not there is no error
      const pid = stuck.pid;
      assert.ok(pid !== undefined);
      process.kill(pid, 'SIGSTOP'); // its requests wait in the pipe
      const [first, queued] = await Promise.allSettled([stuck.detach(`mdvnl${tag}8`), stuck.detach(`mdvnl${tag}9`)]);
      assert.ok(first.status === 'rejected');
      assert.equal((first.reason as Error).message, `netlink session (${NETLINK_HELPER}): no answer to "detach mdvnl${tag}8" in ${timeoutMs} ms: the helper (PID ${pid}) was killed and is started again on the next request`);
      assert.ok(queued.status === 'rejected');
      assert.match((queued.reason as Error).message, /was restarted: an earlier request got no answer in 3000 ms/);
      await until('the stuck helper killed', () => (existsSync(`/proc/${pid}`) ? undefined : true));
      await stuck.detach(`mdvnl${tag}9`);
      assert.ok(stuck.pid !== undefined && stuck.pid !== pid, 'a new helper');
    } finally {
      await stuck.close();
    }
  });

  it('a request longer than the helper reads is refused before it is sent; the helper answers an overlong line once, not as two requests', async () => {
    await assert.rejects(session.attach(pair(spaces[0]!, 2, { alias: 'a'.repeat(3000) })), /a request of \d+ bytes is longer than 2047: shorten its fields \(attach /);
    const exact = `detach ${'a'.repeat(2047 - 'detach '.length)}`;
    assert.equal(Buffer.byteLength(exact), 2047);
    const r = spawnSync(NETLINK_HELPER, [], { input: `${'x'.repeat(5000)}\n${exact}\ndetach mdvnl${tag}9\n`, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'error 90 request longer than 2047 bytes\nerror 22 detach: want <host veth> [<alias>]\nok\n');
  });
});
