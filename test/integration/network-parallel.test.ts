// Integration (root, the kernel): 40 namespaces attached and detached at once on two networks.
// Addresses come from the fold (each planned and recorded in one synchronous step), so none is
// handed out twice; every namespace gets the address the fold says and reaches its gateway; after
// the detaches and the removals no veth, bridge, nft table or namespace is left.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { makeNetns, type TestNetns } from '../fixtures/netns.js';
import { NetworkHarness, silentLogger } from './network-helpers.js';

const exec = promisify(execFile);
const isRoot = process.getuid?.() === 0;
const COUNT = 40;

describe('network-bridge: 40 attach/detach in parallel on two networks', { skip: isRoot ? false : 'needs root' }, () => {
  const h = new NetworkHarness();
  let spaces: TestNetns[] = [];

  before(async () => {
    await h.driver.init({ dataRoot: '/x', execRoot: '/x', stateDir: '/x', runDir: '/x', logger: silentLogger });
  });
  after(async () => {
    await Promise.all(spaces.map((n) => n.dispose()));
    for (const network of Object.values(h.state().networks)) {
      for (const id of Object.keys(network.endpoints)) await h.disconnect(network, id);
      await h.removeNetwork(network);
    }
    await h.driver.close();
  });

  it('gives no address twice and leaves nothing behind', async () => {
    const nets = [await h.createNetwork('one', { subnet: '10.231.4.0/24' }), await h.createNetwork('two', { subnet: '10.231.5.0/24' })];
    spaces = await Promise.all(Array.from({ length: COUNT }, (_, i) => makeNetns(`par${i}`)));
    const attached = await Promise.all(spaces.map(async (ns, i) => {
      const network = nets[i % 2]!;
      const c = await h.connect(network, ns);
      return { ns, network, ...c };
    }));

    for (const network of nets) {
      const ips = attached.filter((a) => a.network.id === network.id).map((a) => a.ip);
      assert.equal(new Set(ips).size, COUNT / 2, `no address twice on ${network.name}`);
      assert.deepEqual(Object.values(h.state().networks[network.id]!.endpoints).map((e) => e.ip).sort(), [...ips].sort());
    }
    await Promise.all(attached.map(async (a) => {
      const inside = await a.ns.run(['ip', '-4', '-o', 'addr', 'show', 'eth0']);
      assert.match(inside, new RegExp(` ${a.ip.replace(/\./g, '\\.')}/24 `));
    }));
    // a few of them reach their gateway (all would cost 40 pings on a shared machine)
    for (const a of attached.slice(0, 4)) await a.ns.run(['busybox', 'ping', '-c1', '-W5', a.network.gateway]);

    await Promise.all(attached.map((a) => h.disconnect(a.network, a.id)));
    for (const network of nets) assert.deepEqual(h.state().networks[network.id]!.endpoints, {});
    const held = await h.driver.list();
    assert.equal(held.veths.filter((v) => nets.some((n) => n.id === v.network)).length, 0);

    // the freed addresses are handed out again
    const again = await h.connect(nets[0]!, spaces[0]!);
    assert.equal(again.ip, '10.231.4.2');
    await h.disconnect(nets[0]!, again.id);

    await Promise.all(spaces.map((n) => n.dispose()));
    spaces = [];
    for (const network of nets) await h.removeNetwork(network);
    const after = await h.driver.list();
    assert.deepEqual(after.tables, []);
    assert.equal(after.bridges.filter((b) => nets.some((n) => n.bridge === b.name)).length, 0);
    const { stdout } = await exec('ip', ['netns', 'list']);
    assert.equal(stdout.split('\n').filter((l) => l.startsWith('md-par')).length, 0);
  });
});
