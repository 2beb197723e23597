// Unit: the network events in the engine's fold (core/state/evolve.ts): networks, addresses and
// published ports in EngineState, each network's stream version and creation time, the container's
// stream version moved by its port events, and evolve / evolveOwned / foldAll agreeing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EngineEvent } from '../../events/index.js';
import { allocateAddress, planNetwork } from '../../core/network/ipam.js';
import { endpointIdOf, resolveName } from '../../core/network/network-state.js';
import { portsInUse } from '../../core/network/published-ports.js';
import { evolve, evolveOwned, foldAll, initialState } from '../../core/state/evolve.js';
import { presentEndpoints } from '../../core/api/container-network-presenters.js';
import { containerCreated, envelopes, given, secondsIn } from '../fixtures/event-envelopes.js';

const NET = 'a'.repeat(64);
const C1 = '1'.repeat(64);
const C2 = '2'.repeat(64);

const networkCreated: EngineEvent = {
  type: 'NetworkCreated',
  data: {
    id: NET, name: 'app', driver: 'bridge', subnet: '172.18.0.0/16', gateway: '172.18.0.1', internal: false, labels: { team: 'a' },
    bridge: `mdbr-${NET.slice(0, 8)}`, mtu: 1500, dns: true,
  },
};
const connected = (id: string, ip: string): EngineEvent => ({
  type: 'ContainerNetworkConnected', data: { network: NET, id, ip, mac: '02:42:ac:12:00:02', aliases: [], interface: 'eth0' },
});
const ports = [{ containerPort: 80, protocol: 'tcp' as const, hostIp: '0.0.0.0', hostPort: 8080 }];

describe('unit: the network events in the engine fold', () => {
  it('given a network created: the state has it, with its creation time and its stream version', () => {
    const s = given([containerCreated(C1, 'web'), networkCreated]);
    const n = s.networks[NET]!;
    assert.equal(n.name, 'app');
    assert.equal(n.created, secondsIn(1));
    assert.equal(n.version, 1);
    assert.deepEqual(n.endpoints, {});
    assert.deepEqual(n.labels, { team: 'a' });
    // IPAM and the ports in use take the engine's state as it is
    assert.equal(allocateAddress(n, C1), '172.18.0.2');
    assert.throws(() => planNetwork({ subnet: '172.18.5.0/24' }, s, []), /Pool overlaps/);
  });

  it('given connects and a disconnect: the network stream version counts them, the address is held then freed', () => {
    const s1 = given([networkCreated, containerCreated(C1, 'web'), connected(C1, '172.18.0.2'), containerCreated(C2, 'db'), connected(C2, '172.18.0.3')]);
    assert.equal(s1.networks[NET]!.version, 3);
    assert.equal(allocateAddress(s1.networks[NET]!, 'f'.repeat(64)), '172.18.0.4');
    const s2 = given([networkCreated, connected(C1, '172.18.0.2'), connected(C2, '172.18.0.3'), { type: 'ContainerNetworkDisconnected', data: { network: NET, id: C1 } }]);
    assert.equal(s2.networks[NET]!.version, 4);
    assert.deepEqual(Object.keys(s2.networks[NET]!.endpoints), [C2]);
    assert.equal(allocateAddress(s2.networks[NET]!, 'f'.repeat(64)), '172.18.0.2');
  });

  it('given an address released at exit: connected still, its address free for another, its last one again when free', () => {
    const C3 = '3'.repeat(64);
    const released: EngineEvent = { type: 'ContainerNetworkReleased', data: { network: NET, id: C1 } };
    const s1 = given([networkCreated, containerCreated(C1, 'web'), connected(C1, '172.18.0.2'), released]);
    const e = s1.networks[NET]!.endpoints[C1]!;
    assert.deepEqual([e.held, e.ip, e.interface], [false, '172.18.0.2', 'eth0'], 'connected, holding nothing, its last address kept');
    assert.equal(s1.networks[NET]!.version, 3, 'on the network stream');
    assert.equal(allocateAddress(s1.networks[NET]!, C2), '172.18.0.2', 'another container may take it');
    assert.equal(allocateAddress(s1.networks[NET]!, C1), '172.18.0.2', 'started again: its last address when free');
    assert.deepEqual(resolveName({ ...s1.networks[NET]!, dns: true }, 'web', () => 'web'), [], 'a released address answers no name');
    // Taken meanwhile: the lowest free one, and the one who took it keeps it.
    const s2 = given([networkCreated, connected(C1, '172.18.0.2'), released, connected(C2, '172.18.0.2')]);
    assert.equal(allocateAddress(s2.networks[NET]!, C1), '172.18.0.3');
    assert.equal(allocateAddress(s2.networks[NET]!, C3), '172.18.0.3');
    // --ip is reserved while released: nobody else gets it, its owner does.
    const fixed: EngineEvent = { type: 'ContainerNetworkConnected', data: { network: NET, id: C1, ip: '172.18.0.9', mac: '02:42:ac:12:00:09', aliases: [], interface: 'eth0', requestedIp: '172.18.0.9' } };
    const s3 = given([networkCreated, fixed, released]);
    assert.equal(s3.networks[NET]!.endpoints[C1]!.requestedIp, '172.18.0.9');
    assert.throws(() => allocateAddress(s3.networks[NET]!, C2, '172.18.0.9'), /Address already in use: 172\.18\.0\.9/);
    assert.equal(allocateAddress(s3.networks[NET]!, C1, '172.18.0.9'), '172.18.0.9');
    // A disconnect after a release: gone, reservation and all.
    const s4 = given([networkCreated, fixed, released, { type: 'ContainerNetworkDisconnected', data: { network: NET, id: C1 } }]);
    assert.deepEqual(s4.networks[NET]!.endpoints, {});
    assert.equal(allocateAddress(s4.networks[NET]!, C2, '172.18.0.9'), '172.18.0.9');
  });

  it('given ports published and unpublished: the container\'s stream version moves with them', () => {
    const s1 = given([
      networkCreated, containerCreated(C1, 'web'), { type: 'ContainerStarted', data: { id: C1, pid: 42, shimPid: 41, drivers: [] } },
      { type: 'ContainerPortsPublished', data: { id: C1, network: NET, ports } },
    ]);
    assert.equal(s1.containers[C1]!.version, 3);
    assert.deepEqual(portsInUse(s1), ports);
    assert.deepEqual(portsInUse(s1, C1), []);
    const s2 = given([
      networkCreated, containerCreated(C1, 'web'), { type: 'ContainerPortsPublished', data: { id: C1, network: NET, ports } },
      { type: 'ContainerPortsUnpublished', data: { id: C1 } },
    ]);
    assert.equal(s2.containers[C1]!.version, 3);
    assert.deepEqual(s2.published, {});
  });

  it('given a network removed: it leaves the state', () => {
    const s = given([networkCreated, { type: 'NetworkRemoved', data: { id: NET } }]);
    assert.deepEqual(s.networks, {});
  });

  it('given host and none recorded: they are pre-defined networks with their ids and drivers, apart from the bridges and IPAM', () => {
    const HOST = 'e'.repeat(64);
    const NONE = 'f'.repeat(64);
    const s = given([
      networkCreated,
      { type: 'PredefinedNetworkCreated', data: { id: HOST, name: 'host', driver: 'host' } },
      { type: 'PredefinedNetworkCreated', data: { id: NONE, name: 'none', driver: 'null' } },
    ]);
    assert.deepEqual(s.predefined, {
      host: { id: HOST, name: 'host', driver: 'host', created: secondsIn(1), version: 1 },
      none: { id: NONE, name: 'none', driver: 'null', created: secondsIn(2), version: 1 },
    });
    assert.deepEqual(Object.keys(s.networks), [NET], 'not bridges: no subnet for IPAM to avoid, nothing for recovery to ensure');
    assert.deepEqual(initialState().predefined, {});
  });

  it('evolve, evolveOwned and foldAll agree, and evolve leaves its input alone', () => {
    const events = envelopes([
      networkCreated, { type: 'PredefinedNetworkCreated', data: { id: 'e'.repeat(64), name: 'host', driver: 'host' } }, connected(C1, '172.18.0.2'),
      { type: 'ContainerPortsPublished', data: { id: C1, network: NET, ports } },
      { type: 'ContainerPortsUnpublished', data: { id: C1 } },
      { type: 'ContainerNetworkReleased', data: { network: NET, id: C1 } },
      { type: 'ContainerNetworkDisconnected', data: { network: NET, id: C1 } },
      { type: 'NetworkRemoved', data: { id: NET } },
    ]);
    let pure = initialState();
    const seen: string[] = [];
    for (const e of events) {
      const before = JSON.stringify(pure);
      const next = evolve(pure, e);
      assert.equal(JSON.stringify(pure), before, 'evolve leaves its input alone');
      seen.push(JSON.stringify([next.networks, next.published, next.predefined]));
      pure = next;
    }
    let owned = initialState();
    for (const e of events) owned = evolveOwned(owned, e);
    assert.deepEqual(owned, pure);
    assert.deepEqual(foldAll(events), pure);
    seen.forEach((x, i) => assert.notEqual(x, seen[i - 1], `event ${i + 1} changed the networks or the ports`));
  });

  it('given a stopped container connected (held: false): connected, holding nothing; its start then holds the address', () => {
    const stopped: EngineEvent = { type: 'ContainerNetworkConnected', data: { network: NET, id: C1, ip: '172.18.0.2', mac: '02:42:ac:12:00:02', aliases: [], interface: 'eth1', held: false } };
    const s = given([networkCreated, containerCreated(C1, 'web'), stopped]);
    assert.deepEqual([s.networks[NET]!.endpoints[C1]!.held, s.networks[NET]!.endpoints[C1]!.interface], [false, 'eth1']);
    assert.equal(allocateAddress(s.networks[NET]!, C2), '172.18.0.2', 'another may take the address planned');
    assert.equal(given([networkCreated, containerCreated(C1, 'web'), stopped, connected(C1, '172.18.0.2')]).networks[NET]!.endpoints[C1]!.held, true);
  });

  it('given a network removed with a stopped container connected: the container keeps it as removed until a disconnect of it', () => {
    const released: EngineEvent = { type: 'ContainerNetworkReleased', data: { network: NET, id: C1 } };
    const removed: EngineEvent = { type: 'NetworkRemoved', data: { id: NET } };
    const s = given([networkCreated, containerCreated(C1, 'web'), containerCreated(C2, 'db'), connected(C1, '172.18.0.2'), released, removed]);
    assert.equal(s.networks[NET], undefined);
    assert.deepEqual(s.containers[C1]!.removedNetworks, [{ id: NET, name: 'app' }]);
    assert.equal(s.containers[C2]!.removedNetworks, undefined, 'one never connected keeps nothing');
    assert.equal(s.containers[C1]!.version, 1, 'not on the container\'s stream');
    const letGo: EngineEvent = { type: 'ContainerNetworkDisconnected', data: { network: NET, id: C1, removed: true } };
    const after = given([networkCreated, containerCreated(C1, 'web'), connected(C1, '172.18.0.2'), released, removed, letGo]);
    assert.equal(after.containers[C1]!.removedNetworks, undefined);
    assert.equal(after.networks[NET], undefined);
    // inspect shows the removed network under its name with an empty NetworkID, as dockerd 20.10; gone once let go.
    const ran = { startedAt: '2026-01-02T03:04:05.000000000Z' }; // it ran once: not the create-time networks of one never started
    const shown = presentEndpoints({ ...s.containers[C1]!, ...ran }, s);
    assert.deepEqual(Object.keys(shown), ['app']);
    assert.deepEqual([shown.app!.NetworkID, shown.app!.EndpointID, shown.app!.IPAddress], ['', '', '']);
    assert.deepEqual(presentEndpoints({ ...after.containers[C1]!, ...ran }, after), {});
  });

  it('an endpoint id is derived from the network and the container, the same every time', () => {
    assert.match(endpointIdOf(NET, C1), /^[0-9a-f]{64}$/);
    assert.equal(endpointIdOf(NET, C1), endpointIdOf(NET, C1));
    assert.notEqual(endpointIdOf(NET, C1), endpointIdOf(NET, C2));
  });
});
