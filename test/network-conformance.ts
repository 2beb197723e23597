/**
 * The conformance suite every network.v1 driver passes (root, the kernel): call
 * `networkConformance(name, factory)` from a test file with a factory that makes the driver and the
 * /24 it may use. The suite makes namespaces `md-conf-…` to attach, uses only addresses of that
 * subnet and loopback, and leaves nothing: every undo is called twice, as a recovery may.
 *
 *   networkConformance('bridge', async () => ({ driver: new BridgeNetworkDriver({ table }), context, subnet: '10.231.16.0/24' }));
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { DriverContext } from '../core/plugins/driver.js';
import { PortAllocatedError, type NetworkDriver, type NetworkSpec } from '../core/plugins/network-driver.js';
import { formatIpv4, parseSubnet } from '../core/network/ipv4.js';
import { macForAddress } from '../core/network/ipam.js';
import { makeNetns, type TestNetns } from './fixtures/netns.js';

export interface NetworkDriverUnderTest {
  readonly driver: NetworkDriver;
  readonly context: DriverContext;
  /** A /24 no other test uses. */
  readonly subnet: string;
  /** The bridge device name the driver accepts for a network id (default "mdbr-" and 8 of the id). */
  bridgeFor?(networkId: string): string;
  dispose?(): Promise<void>;
}

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

export function networkConformance(name: string, factory: () => Promise<NetworkDriverUnderTest>): void {
  describe(`network.v1 conformance: ${name}`, { skip: process.getuid?.() === 0 ? false : 'needs root' }, () => {
    let under: NetworkDriverUnderTest;
    let network: NetworkSpec;
    const spaces: TestNetns[] = [];
    const address = (n: number): string => formatIpv4(parseSubnet(under.subnet)!.base + n);

    before(async () => {
      under = await factory();
      assert.deepEqual(await under.driver.init(under.context), { status: 'ok' });
      const id = hex(32);
      network = {
        id, bridge: under.bridgeFor?.(id) ?? `mdbr-${id.slice(0, 8)}`, subnet: under.subnet, gateway: address(1), mtu: 1500, internal: false, dns: true,
      };
      under.driver.serveNames({ lookup: () => [] });
    });
    after(async () => {
      for (const ns of spaces) await ns.dispose();
      await under.driver.removeNetwork(network);
      await under.driver.close?.();
      await under.dispose?.();
    });

    it('ensureNetwork is idempotent and shows in list()', async () => {
      await under.driver.ensureNetwork(network);
      await under.driver.ensureNetwork(network);
      const held = await under.driver.list();
      assert.ok(held.bridges.some((b) => b.name === network.bridge && b.network === network.id), 'the bridge, with its network');
      assert.ok(held.ruleNetworks.includes(network.id.slice(0, 12)), 'the network\'s rules');
      assert.ok(held.dnsListeners.some((l) => l.network === network.id), 'the resolver');
    });

    it('attach wires a namespace (address, route, lo); detach twice leaves no veth', async () => {
      const ns = await makeNetns(`conf${hex(2)}`);
      spaces.push(ns);
      const containerId = hex(32);
      const ip = address(2);
      await under.driver.attach({ containerId, network, netns: ns.path, interface: 'eth0', ip, mac: macForAddress(ip) });
      assert.match(await ns.run(['ip', '-4', '-o', 'addr', 'show', 'eth0']), new RegExp(` ${ip.replace(/\./g, '\\.')}/24 `));
      assert.match(await ns.run(['ip', 'route', 'show', 'default']), new RegExp(`via ${network.gateway.replace(/\./g, '\\.')}`));
      assert.match(await ns.run(['ip', '-o', 'link', 'show', 'lo']), /UP/);
      await ns.run(['busybox', 'ping', '-c1', '-W5', network.gateway]);
      assert.ok((await under.driver.list()).veths.some((v) => v.containerId === containerId && v.network === network.id));
      await under.driver.detach(containerId, network);
      await under.driver.detach(containerId, network);
      assert.equal((await under.driver.list()).veths.some((v) => v.containerId === containerId), false);
    });

    it('publish resolves a random port, refuses one in use with Docker\'s message, unpublish twice leaves none', async () => {
      const a = hex(32);
      const ports = await under.driver.publish(a, address(3), [{ containerPort: 80, protocol: 'tcp', hostIp: '', hostPort: 0 }], []);
      assert.equal(ports.length, 1);
      assert.ok(ports[0]!.hostPort > 0 && ports[0]!.hostIp === '0.0.0.0' && ports[0]!.containerPort === 80);
      assert.ok((await under.driver.list()).ports.some((p) => p.containerId === a && p.port.hostPort === ports[0]!.hostPort));
      await assert.rejects(
        under.driver.publish(hex(32), address(4), [{ containerPort: 80, protocol: 'tcp', hostIp: '', hostPort: ports[0]!.hostPort }], ports),
        (e: unknown) => e instanceof PortAllocatedError && e.message === `Bind for 0.0.0.0:${ports[0]!.hostPort} failed: port is already allocated`,
      );
      await under.driver.unpublish(a, address(3), ports);
      await under.driver.unpublish(a, address(3), ports);
      assert.deepEqual((await under.driver.list()).ports, []);
    });

    it('removeNetwork twice leaves no bridge, rules or resolver of the network', async () => {
      await under.driver.removeNetwork(network);
      await under.driver.removeNetwork(network);
      const held = await under.driver.list();
      assert.equal(held.bridges.some((b) => b.name === network.bridge), false);
      assert.equal(held.ruleNetworks.includes(network.id.slice(0, 12)), false);
      assert.equal(held.dnsListeners.some((l) => l.network === network.id), false);
    });
  });
}
