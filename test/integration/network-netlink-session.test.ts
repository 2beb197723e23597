// Integration (root, the kernel): the bridge driver's netlink session (mini-docker-netlink). An
// attach makes the pair in one request (peer inside the namespace with its MAC, address, route; host
// end on the bridge, up, with its alias); requests in flight at once each get their own answer; a
// refused request names the step and the kernel's reason and leaves the session serving; a detach of
// a pair already gone is no error; a closed session starts again on the next request (close() waits
// for the helper to exit); a request unanswered in time fails and its helper is killed and started
// again; a request longer than the helper's line is refused, and an overlong line is one error.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
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
    for (let n = 2; n <= 4; n++) await exec('ip', ['link', 'del', `mdvnl${tag}${n}`]).catch(() => undefined);
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
    assert.match(readFileSync(`${host}/operstate`, 'utf8'), /up/);
    // the host reaches the container's address through the bridge
    const { stdout } = await exec('ip', ['route', 'get', '10.233.7.2']);
    assert.match(stdout, new RegExp(`dev ${bridge}`));
  });

  it('answers requests in flight at once each with its own outcome, and goes on after a refused one', async () => {
    const results = await Promise.allSettled([
      session.attach(pair(spaces[1]!, 3, { gateway: null })),
      session.attach(pair(spaces[2]!, 4, { netns: '/proc/nonexistent/ns/net' })),
      session.attach(pair(spaces[2]!, 2)), // the host end's name is taken by the first test's pair
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
    assert.match((taken as PromiseRejectedResult).reason.message as string, /make the veth pair: File exists/);
    assert.equal(existsSync(`/sys/class/net/mdvnl${tag}4`), false, 'nothing of the refused attach was made');
  });

  it('detaches: the pair goes (its peer too); detaching again is no error; a word with a space is refused; a closed session starts again on the next request', async () => {
    await session.detach(`mdvnl${tag}2`);
    assert.equal(existsSync(`/sys/class/net/mdvnl${tag}2`), false);
    assert.doesNotMatch(await spaces[0]!.run(['ip', 'link']), /eth0/);
    await session.detach(`mdvnl${tag}2`);
    await assert.rejects(session.attach(pair(spaces[0]!, 2, { alias: 'two words' })), /is not one word/);
    const pid = session.pid;
    assert.ok(pid !== undefined);
    await session.close();
    assert.equal(existsSync(`/proc/${pid}`), false, 'close() waited for the helper to exit');
    await session.detach(`mdvnl${tag}3`); // a closed session starts again on the next request
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
    assert.equal(r.stdout, 'error 90 request longer than 2047 bytes\nerror 22 detach: want <host veth>\nok\n');
  });
});
