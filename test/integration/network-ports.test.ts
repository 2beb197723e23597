// Integration (root, the kernel): published ports through the driver's nft table. A busybox httpd
// in a namespace answers on 127.0.0.1:HOSTPORT from the host (output DNAT + route_localnet) and on
// the host's address from "another host" (a namespace behind a veth; prerouting DNAT) and from a
// container of another network; a port held by a host process or another container fails with
// Docker's message and installs nothing; after unpublish the port is closed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { PortAllocatedError } from '../../core/plugins/network-driver.js';
import { portsInUse } from '../../core/network/published-ports.js';
import { makeScratchDir } from '../fixtures/scratch-dir.js';
import { eventually, makeNetns, makeOutsideHost, randomId, type TestNetns } from '../fixtures/netns.js';
import { NetworkHarness, silentLogger } from './network-helpers.js';

const exec = promisify(execFile);
const isRoot = process.getuid?.() === 0;

async function curl(url: string): Promise<string> {
  return (await exec('curl', ['-sf', '--max-time', '5', url])).stdout;
}

describe('network-bridge published ports', { skip: isRoot ? false : 'needs root' }, () => {
  const h = new NetworkHarness();
  const spaces: TestNetns[] = [];
  let scratch: { path: string; dispose(): Promise<void> };
  let hostServer: Server | null = null;

  before(async () => {
    await h.driver.init({ dataRoot: '/x', execRoot: '/x', stateDir: '/x', runDir: '/x', logger: silentLogger });
    scratch = await makeScratchDir('net-ports');
  });
  after(async () => {
    hostServer?.close();
    for (const n of spaces) await n.dispose();
    for (const network of Object.values(h.state().networks)) {
      for (const id of Object.keys(network.endpoints)) await h.disconnect(network, id);
      await h.removeNetwork(network);
    }
    await h.driver.close();
    await scratch.dispose();
  });

  it('serves a published port on 127.0.0.1 and to another host, refuses a taken port, and closes it on unpublish', async () => {
    const net = await h.createNetwork('web', { subnet: '10.231.2.0/24' });
    const web = await makeNetns('web');
    spaces.push(web);
    const outside = await makeOutsideHost('far', '10.231.8.1', '10.231.8.2');
    spaces.push(outside);
    const c = await h.connect(net, web);
    const www = join(scratch.path, 'www');
    await mkdir(www, { recursive: true });
    await writeFile(join(www, 'index.html'), 'published page\n');
    web.start(['busybox', 'httpd', '-f', '-p', '80', '-h', www]);

    const ports = await h.driver.publish(c.id, c.ip, [{ containerPort: 80, protocol: 'tcp', hostIp: '', hostPort: 0 }], portsInUse(h.state(), c.id));
    assert.equal(ports.length, 1);
    const [p] = ports;
    assert.equal(p!.hostIp, '0.0.0.0');
    assert.ok(p!.hostPort > 0);
    assert.equal(p!.containerPort, 80);
    h.append({ type: 'ContainerPortsPublished', data: { id: c.id, network: net.id, ports } });

    assert.equal(await eventually(() => curl(`http://127.0.0.1:${p!.hostPort}/`)), 'published page\n');
    assert.equal(await outside.run(['curl', '-sf', '--max-time', '5', `http://10.231.8.1:${p!.hostPort}/`]), 'published page\n');
    // from a container of another network, through the host's address on its own bridge: published
    // ports are reachable from everywhere, though the networks are isolated from each other
    const otherNet = await h.createNetwork('other', { subnet: '10.231.15.0/24' });
    const neighbour = await makeNetns('nb');
    spaces.push(neighbour);
    await h.connect(otherNet, neighbour);
    assert.equal(await neighbour.run(['curl', '-sf', '--max-time', '5', `http://10.231.15.1:${p!.hostPort}/`]), 'published page\n');
    assert.notEqual((await neighbour.attempt(['curl', '-sf', '--max-time', '2', `http://${c.ip}/`])).code, 0, 'the container itself is not reachable across networks');

    // a second container asking for the same host port: Docker's message, nothing installed; the
    // fold says so, and so does the kernel when the fold was not asked (a race)
    const other = randomId();
    for (const inUse of [portsInUse(h.state(), other), []]) {
      await assert.rejects(
        h.driver.publish(other, '10.231.2.99', [{ containerPort: 81, protocol: 'tcp', hostIp: '', hostPort: p!.hostPort }], inUse),
        (e: unknown) => e instanceof PortAllocatedError && e.message === `Bind for 0.0.0.0:${p!.hostPort} failed: port is already allocated`,
      );
    }
    await assert.rejects(
      h.driver.publish(other, '10.231.2.99', [{ containerPort: 81, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: p!.hostPort }], portsInUse(h.state(), other)),
      /Bind for 127\.0\.0\.1:\d+ failed: port is already allocated/,
    );
    // a port a host process listens on, with a free one before it: all or nothing
    hostServer = createServer();
    await new Promise<void>((resolve) => hostServer!.listen(0, '127.0.0.1', resolve));
    const hostPort = (hostServer.address() as { port: number }).port;
    await assert.rejects(
      h.driver.publish(other, '10.231.2.99', [
        { containerPort: 82, protocol: 'tcp', hostIp: '', hostPort: 0 },
        { containerPort: 83, protocol: 'tcp', hostIp: '', hostPort },
      ], portsInUse(h.state(), other)),
      /port is already allocated/,
    );
    const held = await h.driver.list();
    assert.deepEqual(held.ports.map((x) => x.containerId), [c.id], 'only the first container holds a port');
    assert.deepEqual(held.ports[0]!.port, p);

    // a specific host address and udp go to their own maps
    const more = await h.driver.publish(c.id, c.ip, [
      { containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 0 },
      { containerPort: 53, protocol: 'udp', hostIp: '', hostPort: 0 },
    ], portsInUse(h.state(), c.id));
    assert.equal(await eventually(() => curl(`http://127.0.0.1:${more[0]!.hostPort}/`)), 'published page\n');
    assert.equal((await h.driver.list()).ports.length, 3);

    await h.driver.unpublish(c.id, c.ip, [...ports, ...more]);
    await h.driver.unpublish(c.id, c.ip, [...ports, ...more]); // idempotent
    h.append({ type: 'ContainerPortsUnpublished', data: { id: c.id } });
    await assert.rejects(curl(`http://127.0.0.1:${p!.hostPort}/`));
    assert.deepEqual((await h.driver.list()).ports, []);
  });
});
