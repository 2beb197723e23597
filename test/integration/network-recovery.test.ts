// Integration (root, the kernel): a daemon that died with containers wired and ports published. A
// new driver instance (the restarted daemon) lists what the host holds, plans against the fold
// (core/network/recovery.ts) and carries the plan out: the running container's port still answers
// and its veth is kept, the one that exited meanwhile loses its veth and port, the resolver
// answers again.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { applyNetworkRecovery, planNetworkRecovery } from '../../core/network/recovery.js';
import { portsInUse } from '../../core/network/published-ports.js';
import { BridgeNetworkDriver } from '../../plugins/network-bridge/bridge-network-driver.js';
import { makeScratchDir } from '../fixtures/scratch-dir.js';
import { eventually, makeNetns, type TestNetns } from '../fixtures/netns.js';
import { NetworkHarness, silentLogger, specOf } from './network-helpers.js';

const exec = promisify(execFile);
const isRoot = process.getuid?.() === 0;
const context = { dataRoot: '/x', execRoot: '/x', stateDir: '/x', runDir: '/x', logger: silentLogger };

describe('network-bridge recovery after a crash', { skip: isRoot ? false : 'needs root' }, () => {
  const h = new NetworkHarness();
  const spaces: TestNetns[] = [];
  let restarted: BridgeNetworkDriver | null = null;
  let scratch: { path: string; dispose(): Promise<void> } | null = null;

  after(async () => {
    for (const n of spaces) await n.dispose();
    const driver = restarted ?? h.driver;
    for (const network of Object.values(h.state().networks)) {
      for (const id of Object.keys(network.endpoints)) await driver.detach(id, specOf(network));
      for (const [id, p] of Object.entries(h.state().published)) await driver.unpublish(id, network.endpoints[id]?.ip ?? '0.0.0.0', p.ports);
      await driver.removeNetwork(specOf(network));
    }
    await h.driver.close();
    await restarted?.close();
    await scratch?.dispose();
  });

  it('adopts what the log says is in force and undoes the rest', async () => {
    await h.driver.init(context);
    scratch = await makeScratchDir('net-recovery');
    const net = await h.createNetwork('app', { subnet: '10.231.17.0/24' });
    const [a, b] = [await makeNetns('rec-a'), await makeNetns('rec-b')];
    spaces.push(a, b);
    const ca = await h.connect(net, a, { name: 'alive' });
    const cb = await h.connect(net, b, { name: 'gone' });
    const www = join(scratch.path, 'www');
    await mkdir(www, { recursive: true });
    await writeFile(join(www, 'index.html'), 'still here\n');
    a.start(['busybox', 'httpd', '-f', '-p', '80', '-h', www]);
    for (const c of [ca, cb]) {
      const ports = await h.driver.publish(c.id, c.ip, [{ containerPort: 80, protocol: 'tcp', hostIp: '', hostPort: 0 }], portsInUse(h.state(), c.id));
      h.append({ type: 'ContainerPortsPublished', data: { id: c.id, network: net.id, ports } });
    }
    const portOf = (id: string): number => h.state().published[id]!.ports[0]!.hostPort;
    assert.equal(await eventually(async () => (await exec('curl', ['-sf', '--max-time', '5', `http://127.0.0.1:${portOf(ca.id)}/`])).stdout), 'still here\n');

    // the daemon dies: its sockets close (the resolver, the nft session), the host keeps the rest
    await h.driver.close();
    restarted = new BridgeNetworkDriver({ table: h.table });
    await restarted.init(context);
    restarted.serveNames({ lookup: (_n, name) => (name === 'alive' ? [ca.ip] : []) });
    const plan = planNetworkRecovery({
      held: await restarted.list(), state: h.state(), running: (id) => id === ca.id, known: (id) => id === ca.id || id === cb.id,
    });
    assert.deepEqual(plan.detach.map((d) => d.containerId), [cb.id]);
    assert.deepEqual(plan.unpublish.map((u) => u.containerId), [cb.id]);
    assert.deepEqual(plan.adopted, { veths: 1, ports: 1 });
    await applyNetworkRecovery(restarted, plan);

    assert.equal((await exec('curl', ['-sf', '--max-time', '5', `http://127.0.0.1:${portOf(ca.id)}/`])).stdout, 'still here\n');
    const held = await restarted.list();
    assert.deepEqual(held.veths.filter((v) => v.network === net.id).map((v) => v.containerId), [ca.id]);
    assert.deepEqual(held.ports.map((p) => p.containerId), [ca.id]);
    assert.ok(held.dnsListeners.some((l) => l.network === net.id), 'the resolver serves again');
    assert.doesNotMatch(await b.run(['ip', 'link']), /eth0/, 'the exited container has no eth0 left');
  });
});
