// Integration (root, the kernel): the bridge driver wires network namespaces we make into bridges of
// its own: ping and TCP between them, the interface as the contract says (eth0, MAC, MTU, default
// route), masquerade to "another host" (a namespace behind a veth) and none for --internal, no
// traffic between two networks, and after detach and removal no link, no nft table, no namespace.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { makeScratchDir } from '../fixtures/scratch-dir.js';
import { eventually, makeNetns, makeOutsideHost, randomId, type TestNetns } from '../fixtures/netns.js';
import { DEFAULT_POOLS, allocateAddress, chooseSubnet, macForAddress } from '../../core/network/ipam.js';
import { readHostRoutes } from '../../core/network/host-routes.js';
import { formatSubnet, overlaps } from '../../core/network/ipv4.js';
import { NetworkHarness, silentLogger, specOf } from './network-helpers.js';
import { vethNameFor } from '../../plugins/network-bridge/network-names.js';

const exec = promisify(execFile);
const isRoot = process.getuid?.() === 0;

describe('network-bridge driver against the kernel', { skip: isRoot ? false : 'needs root' }, () => {
  const h = new NetworkHarness();
  const spaces: TestNetns[] = [];
  const ns = async (label: string): Promise<TestNetns> => {
    const n = await makeNetns(label);
    spaces.push(n);
    return n;
  };
  let scratch: { path: string; dispose(): Promise<void> };

  before(async () => {
    const status = await h.driver.init({ dataRoot: '/nonexistent', execRoot: '/nonexistent', stateDir: '/nonexistent', runDir: '/nonexistent', logger: silentLogger });
    assert.deepEqual(status, { status: 'ok' });
    scratch = await makeScratchDir('net-bridge');
  });
  after(async () => {
    for (const n of spaces) await n.dispose();
    for (const network of Object.values(h.state().networks)) await h.removeNetwork(network);
    await h.driver.close();
    await scratch.dispose();
  });

  it('two namespaces on one network ping each other and talk TCP; eth0 has the address, MAC, MTU and default route', async () => {
    const net = await h.createNetwork('app', { subnet: '10.231.1.0/24', mtu: 1400 });
    const [a, b] = [await ns('a'), await ns('b')];
    const ca = await h.connect(net, a);
    const cb = await h.connect(net, b);
    assert.equal(ca.ip, '10.231.1.2');
    assert.equal(cb.ip, '10.231.1.3');

    const [link] = JSON.parse(await a.run(['ip', '-json', 'addr', 'show', 'eth0'])) as { address: string; mtu: number; operstate: string; addr_info: { local: string; prefixlen: number }[] }[];
    assert.equal(link!.address, '02:42:0a:e7:01:02');
    assert.equal(link!.mtu, 1400);
    assert.deepEqual(link!.addr_info.filter((x) => x.local.includes('.')).map((x) => `${x.local}/${x.prefixlen}`), ['10.231.1.2/24']);
    assert.match(await a.run(['ip', 'route', 'show', 'default']), /default via 10\.231\.1\.1 dev eth0/);
    assert.match(await a.run(['ip', 'link', 'show', 'lo']), /UP/);
    assert.equal(readFileSync(`/sys/class/net/${net.bridge}/mtu`, 'utf8').trim(), '1400');
    assert.equal(readFileSync(`/sys/class/net/${vethNameFor(ca.id, net.id)}/master/ifindex`, 'utf8'), readFileSync(`/sys/class/net/${net.bridge}/ifindex`, 'utf8'));

    await a.run(['busybox', 'ping', '-c1', '-W5', cb.ip]);
    await b.run(['busybox', 'ping', '-c1', '-W5', '10.231.1.1']);
    const www = join(scratch.path, 'www');
    await mkdir(www, { recursive: true });
    await writeFile(join(www, 'index.html'), 'hello from b\n');
    b.start(['busybox', 'httpd', '-f', '-p', '80', '-h', www]);
    const page = await eventually(() => a.run(['curl', '-sf', '--max-time', '5', `http://${cb.ip}/`]));
    assert.equal(page, 'hello from b\n');

    await h.disconnect(net, ca.id);
    assert.equal(existsSync(`/sys/class/net/${vethNameFor(ca.id, net.id)}`), false);
    assert.doesNotMatch(await a.run(['ip', 'link']), /eth0/);
    await h.driver.detach(ca.id, { ...net }); // idempotent
  });

  it('attaches a process\'s namespace given by pid and holds it: when the process dies its pair stays until detach, which deletes it and lets go of the namespace', async () => {
    const net = await h.createNetwork('bypid', { subnet: '10.231.13.0/24' });
    const child = spawn('unshare', ['--net', 'sleep', '1000'], { stdio: 'ignore' });
    try {
      const pid = child.pid!;
      await eventually(async () => {
        if (readlinkSync(`/proc/${pid}/ns/net`) === readlinkSync('/proc/self/ns/net')) throw new Error('not unshared yet');
        if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep')) throw new Error('not exec\'d yet');
      });
      const id = randomId();
      const ip = allocateAddress(h.state().networks[net.id]!, id);
      h.append({ type: 'ContainerNetworkConnected', data: { network: net.id, id, ip, mac: macForAddress(ip), aliases: [], interface: 'eth0' } });
      await h.driver.attach({ containerId: id, network: specOf(net), netns: pid, interface: 'eth0', ip, mac: macForAddress(ip) });
      const { stdout } = await exec('nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', '-4', '-o', 'addr', 'show', 'eth0']);
      assert.match(stdout, / 10\.231\.13\.2\/24 /);
      const veth = vethNameFor(id, net.id);
      assert.equal(readFileSync(`/sys/class/net/${veth}/ifalias`, 'utf8').trim(), `mini-docker:${id}:${net.id}`);
      const namespace = readlinkSync(`/proc/${pid}/ns/net`);
      assert.equal(holdersOf(namespace).length, 1, 'the attach session holds the namespace');
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      assert.equal(existsSync(`/sys/class/net/${veth}`), true, 'the held namespace keeps the pair after its last process');
      await h.driver.detach(id, specOf(net));
      assert.equal(existsSync(`/sys/class/net/${veth}`), false);
      await eventually(async () => assert.deepEqual(holdersOf(namespace), [], 'the hold let go once the pair was deleted'));
      await h.driver.detach(id, specOf(net)); // a pair gone, a namespace not held: no error
      await h.disconnect(net, id);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('the pool choice reads this host\'s routes: the chosen subnet overlaps none of them, nor a bridge of ours made on the first choice', async () => {
    const routes = await readHostRoutes();
    const first = chooseSubnet(DEFAULT_POOLS, [], routes)!;
    assert.equal(routes.some((r) => overlaps(r, first)), false);
    const taken = await h.createNetwork('pooled', { subnet: formatSubnet(first) });
    const after = await readHostRoutes();
    assert.ok(after.some((r) => formatSubnet(r) === formatSubnet(first)), 'the bridge\'s route is on the host');
    const second = chooseSubnet(DEFAULT_POOLS, [], after)!;
    assert.notEqual(formatSubnet(second), formatSubnet(first));
    await h.removeNetwork(taken);
  });

  it('refuses a bridge name that is not ours', async () => {
    await assert.rejects(h.driver.ensureNetwork({ id: randomId(), bridge: 'docker0', subnet: '10.231.14.0/24', gateway: '10.231.14.1', mtu: 1500, internal: false, dns: false }),
      /bridge name "docker0" is not one of ours/);
  });

  it('masquerades outbound traffic to another host; an --internal network gets none; networks do not reach each other', async () => {
    const outside = await makeOutsideHost('out', '10.231.9.1', '10.231.9.2');
    spaces.push(outside);
    const open = await h.createNetwork('open', { subnet: '10.231.6.0/24' });
    const closed = await h.createNetwork('closed', { subnet: '10.231.7.0/24', internal: true });
    const [o, c] = [await ns('open'), await ns('closed')];
    const co = await h.connect(open, o);
    const cc = await h.connect(closed, c);
    // the outside host has no route to 10.231.6.0/24: an answer proves the source was masqueraded
    await o.run(['busybox', 'ping', '-c1', '-W5', '10.231.9.2']);
    const blocked = await c.attempt(['busybox', 'ping', '-c1', '-W2', '10.231.9.2']);
    assert.notEqual(blocked.code, 0, 'an internal network has no way out');
    const across = await o.attempt(['busybox', 'ping', '-c1', '-W2', cc.ip]);
    assert.notEqual(across.code, 0, 'one network does not reach another');
    const held = await h.driver.list();
    assert.ok(held.tables.includes(`ip ${h.table}`));
    assert.ok(held.bridges.some((b) => b.name === open.bridge && b.network === open.id));
    assert.ok(held.veths.some((v) => v.containerId === co.id && v.network === open.id));
    assert.deepEqual([open.id.slice(0, 12), closed.id.slice(0, 12)].every((t) => held.ruleNetworks.includes(t)), true);
    assert.ok(held.dnsListeners.some((l) => l.network === open.id && l.address === '10.231.6.1:53'));
    await h.disconnect(open, co.id);
    await h.disconnect(closed, cc.id);
  });

  it('removing the last network leaves no bridge, no veth and no table; removing twice is a no-op', async () => {
    const net = await h.createNetwork('short', { subnet: '10.231.10.0/24' });
    const n = await ns('short');
    await h.connect(net, n);
    for (const network of Object.values(h.state().networks)) {
      for (const id of Object.keys(network.endpoints)) await h.disconnect(network, id);
      await h.removeNetwork(network);
    }
    await h.driver.removeNetwork({ ...net });
    const held = await h.driver.list();
    assert.equal(held.bridges.some((b) => b.name === net.bridge), false);
    assert.equal(held.veths.some((v) => v.network === net.id), false);
    assert.deepEqual(held.tables, []);
    assert.deepEqual(held.dnsListeners, []);
    const { stdout } = await exec('nft', ['list', 'tables']);
    assert.doesNotMatch(stdout, new RegExp(h.table));
  });
});

/** The fds of this process's children (the driver's netlink sessions) that hold the namespace `link` (`net:[inode]`). */
function holdersOf(link: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== process.pid) continue;
      for (const fd of readdirSync(`/proc/${entry}/fd`)) if (readlinkSync(`/proc/${entry}/fd/${fd}`) === link) found.push(`${entry}/${fd}`);
    } catch { /* gone meanwhile */ }
  }
  return found;
}
