// Integration (root, the kernel): the bridge driver's detaches are asked of their own netlink
// session, one request at a time, and an exit does not wait for them. A start of the same container
// right after makes the pair again under the same host-end name: it waits for its own pending
// detach, so the detach can never reach the new pair. And an attach refused because the name is
// another device's (EEXIST) leaves that device alone.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { NETLINK_HELPER } from '../../plugins/network-bridge/netlink-session.js';
import { vethAlias, vethNameFor } from '../../plugins/network-bridge/network-names.js';
import { makeNetns, randomId, type TestNetns } from '../fixtures/netns.js';
import { NetworkHarness, silentLogger, specOf } from './network-helpers.js';

const exec = promisify(execFile);
const isRoot = process.getuid?.() === 0;
const context = { dataRoot: '/x', execRoot: '/x', stateDir: '/x', runDir: '/x', logger: silentLogger };
const linkExists = (name: string): Promise<boolean> => exec('ip', ['link', 'show', 'dev', name]).then(() => true, () => false);

describe('network-bridge detach and attach of the same pair', { skip: isRoot ? false : 'needs root' }, () => {
  const h = new NetworkHarness();
  const spaces: TestNetns[] = [];
  const strays: string[] = [];

  after(async () => {
    for (const name of strays) await exec('ip', ['link', 'del', name]).catch(() => undefined);
    for (const network of Object.values(h.state().networks)) {
      for (const id of Object.keys(network.endpoints)) await h.driver.detach(id, specOf(network));
      await h.driver.removeNetwork(specOf(network));
    }
    for (const n of spaces) await n.dispose();
    await h.driver.close();
  });

  it('an attach made while the detach of the same name is queued keeps its new pair', async () => {
    await h.driver.init(context);
    const net = await h.createNetwork('race', { subnet: '10.231.18.0/24' });
    const first: TestNetns[] = [];
    for (let i = 0; i < 4; i++) first.push(await makeNetns(`race-${i}`));
    spaces.push(...first);
    const wired = [];
    for (const ns of first) wired.push(await h.connect(net, ns));
    // the exits: every detach asked at once, none awaited; the last one queued behind three others
    const detaches = wired.map((c) => h.driver.detach(c.id, specOf(net)));
    // the start of the last container again, in a new namespace, while its detach waits in the queue
    const again = await makeNetns('race-again');
    spaces.push(again);
    const last = wired[wired.length - 1]!;
    const endpoint = h.state().networks[net.id]!.endpoints[last.id]!;
    await h.driver.attach({ containerId: last.id, network: specOf(net), netns: again.path, interface: 'eth0', ip: endpoint.ip, mac: endpoint.mac });
    await Promise.all(detaches);
    assert.ok(await linkExists(vethNameFor(last.id, net.id)), 'the host end of the new pair is still there');
    assert.match(await again.run(['ip', '-o', 'addr', 'show', 'dev', 'eth0']), new RegExp(`inet ${endpoint.ip.replace(/\./g, '\\.')}/24`));
    for (const c of wired.slice(0, -1)) assert.equal(await linkExists(vethNameFor(c.id, net.id)), false, 'the other pairs are deleted');
  });

  it('a detach after close (the daemon\'s shutdown) does nothing and starts no netlink helper, so the daemon can exit', async () => {
    const net = Object.values(h.state().networks)[0]!;
    const closed = new NetworkHarness();
    await closed.driver.init(context);
    const helper = realpathSync(NETLINK_HELPER);
    const helpers = (): number[] => readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number).filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid && realpathSync(`/proc/${pid}/exe`) === helper;
      } catch {
        return false; // gone meanwhile
      }
    });
    const before = helpers(); // the other driver's
    await closed.driver.close();
    await closed.driver.detach(randomId(), specOf(net));
    assert.deepEqual(helpers().filter((pid) => !before.includes(pid)), [], 'no helper started after close()');
  });

  it('an attach refused because the host end is another device leaves that device alone', async () => {
    const net = Object.values(h.state().networks)[0]!;
    const ns = await makeNetns('race-taken');
    spaces.push(ns);
    const id = randomId();
    const name = vethNameFor(id, net.id);
    await exec('ip', ['link', 'add', name, 'type', 'veth', 'peer', 'name', `mdt${randomId().slice(0, 8)}`]);
    strays.push(name);
    await exec('ip', ['link', 'set', name, 'alias', vethAlias(randomId(), net.id)]);
    await assert.rejects(
      h.driver.attach({ containerId: id, network: specOf(net), netns: ns.path, interface: 'eth0', ip: '10.231.18.200', mac: '02:42:0a:e7:12:c8' }),
      /is not this container's/,
    );
    assert.ok(await linkExists(name), 'the other device is still there');
  });
});
