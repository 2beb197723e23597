// Unit: IPAM as pure functions over the fold of network events (core/network), given events /
// when a request / then an address, a subnet or Docker's error; the events' validators.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidEventError, networkStream, validateEvent, type NetworkEvent } from '../../events/index.js';
import {
  DEFAULT_POOLS, IpamError, allocateAddress, chooseSubnet, macForAddress, parseProcNetRoute, planNetwork,
} from '../../core/network/ipam.js';
import { formatSubnet, parseIpv4, parseSubnet, overlaps } from '../../core/network/ipv4.js';
import { EMPTY_NETWORKS, findNetwork, foldNetworks, resolveName } from '../../core/network/network-state.js';
import { portRequestsFrom, portsConflict, portsInUse } from '../../core/network/published-ports.js';
import { planNetworkRecovery } from '../../core/network/recovery.js';

const NET = 'a'.repeat(64);
const NET2 = 'b'.repeat(64);
const C1 = '1'.repeat(64);
const C2 = '2'.repeat(64);
const C3 = '3'.repeat(64);

const created = (id: string, subnet: string, extra: Partial<{ name: string; gateway: string; dns: boolean }> = {}): NetworkEvent => ({
  type: 'NetworkCreated',
  data: {
    id, name: extra.name ?? `net-${id.slice(0, 4)}`, driver: 'bridge', subnet, gateway: extra.gateway ?? subnet.replace(/\.0\/\d+$/, '.1'),
    internal: false, labels: {}, bridge: `mdbr-${id.slice(0, 8)}`, mtu: 1500, dns: extra.dns ?? true,
  },
});
const connected = (network: string, id: string, ip: string, aliases: string[] = []): NetworkEvent => ({
  type: 'ContainerNetworkConnected', data: { network, id, ip, mac: macForAddress(ip), aliases, interface: 'eth0' },
});
const disconnected = (network: string, id: string): NetworkEvent => ({ type: 'ContainerNetworkDisconnected', data: { network, id } });
const subnets = (...s: string[]) => s.map((x) => parseSubnet(x)!);

describe('ipv4', () => {
  it('parses and formats addresses and subnets, refusing what is not IPv4', () => {
    assert.equal(parseIpv4('172.17.0.1'), 0xac110001);
    for (const bad of ['256.0.0.1', '1.2.3', '01.2.3.4', 'a.b.c.d', '']) assert.equal(parseIpv4(bad), null, bad);
    assert.equal(formatSubnet(parseSubnet('10.1.2.3/16')!), '10.1.0.0/16');
    assert.equal(parseSubnet('10.1.2.3/16', true), null);
    assert.equal(parseSubnet('10.0.0.0/33'), null);
    assert.equal(overlaps(parseSubnet('10.0.0.0/8')!, parseSubnet('10.200.0.0/24')!), true);
    assert.equal(overlaps(parseSubnet('10.0.0.0/24')!, parseSubnet('10.0.1.0/24')!), false);
  });
});

describe('subnet choice (Docker\'s default pools)', () => {
  it('reads the host routes from /proc/net/route, leaving the default route out', () => {
    const text = [
      'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
      'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
      'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
      'docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
    ].join('\n');
    assert.deepEqual(parseProcNetRoute(text).map(formatSubnet), ['192.0.2.0/24', '172.17.0.0/16']);
  });

  it('given no network and no route, the first pool: 172.17.0.0/16', () => {
    assert.equal(formatSubnet(chooseSubnet(DEFAULT_POOLS, [], [])!), '172.17.0.0/16');
  });

  it('given 172.17/16 routed on the host (docker0) and 172.18/16 ours, then 172.19.0.0/16', () => {
    assert.equal(formatSubnet(chooseSubnet(DEFAULT_POOLS, subnets('172.18.0.0/16'), subnets('172.17.5.0/24'))!), '172.19.0.0/16');
  });

  it('given all of 172.16.0.0/12 taken, then the /20s of 192.168, skipping one a route overlaps', () => {
    const routes = subnets('172.16.0.0/12', '192.168.0.0/20', '192.168.17.0/24');
    assert.equal(formatSubnet(chooseSubnet(DEFAULT_POOLS, [], routes)!), '192.168.32.0/20');
  });

  it('given everything taken, no subnet and Docker\'s message', () => {
    assert.equal(chooseSubnet(DEFAULT_POOLS, [], subnets('0.0.0.0/1', '128.0.0.0/1')), null);
    assert.throws(() => planNetwork({}, EMPTY_NETWORKS, subnets('172.0.0.0/8', '192.168.0.0/16')),
      (e: unknown) => e instanceof IpamError && /could not find an available, non-overlapping IPv4 address pool/.test(e.message));
  });

  it('--subnet and --gateway: given, checked against our networks and the subnet', () => {
    const state = foldNetworks([created(NET, '10.5.0.0/24')]);
    assert.deepEqual(planNetwork({ subnet: '10.6.0.0/24', gateway: '10.6.0.254' }, state, []), { subnet: '10.6.0.0/24', gateway: '10.6.0.254' });
    assert.deepEqual(planNetwork({ subnet: '10.6.0.0/24' }, state, []), { subnet: '10.6.0.0/24', gateway: '10.6.0.1' });
    assert.throws(() => planNetwork({ subnet: '10.5.0.128/25' }, state, []), /Pool overlaps with other one on this address space/);
    assert.throws(() => planNetwork({ subnet: '10.6.0.0/24', gateway: '10.7.0.1' }, state, []), /no matching subnet for gateway 10\.7\.0\.1/);
    assert.throws(() => planNetwork({ gateway: '10.7.0.1' }, state, []), /--gateway needs --subnet/);
    assert.throws(() => planNetwork({ subnet: 'nonsense' }, state, []), /invalid subnet nonsense/);
  });
});

describe('address allocation over the fold', () => {
  it('given a fresh network, the first host address after the gateway; then the next', () => {
    const state = foldNetworks([created(NET, '10.1.0.0/24')]);
    assert.equal(allocateAddress(state.networks[NET]!, C1), '10.1.0.2');
    const after = foldNetworks([connected(NET, C1, '10.1.0.2')], state);
    assert.equal(allocateAddress(after.networks[NET]!, C2), '10.1.0.3');
  });

  it('given a container that holds an address, it keeps it; another gets a different one', () => {
    const state = foldNetworks([created(NET, '10.1.0.0/24'), connected(NET, C1, '10.1.0.2')]);
    assert.equal(allocateAddress(state.networks[NET]!, C1), '10.1.0.2');
    assert.notEqual(allocateAddress(state.networks[NET]!, C2), '10.1.0.2');
  });

  it('given a disconnect, the address is free again', () => {
    const state = foldNetworks([created(NET, '10.1.0.0/24'), connected(NET, C1, '10.1.0.2'), connected(NET, C2, '10.1.0.3'), disconnected(NET, C1)]);
    assert.equal(allocateAddress(state.networks[NET]!, C3), '10.1.0.2');
  });

  it('given an address draining (given back, its old pair still on the bridge), no other container gets it; the one that gave it back takes it again', () => {
    const state = foldNetworks([created(NET, '10.1.0.0/24'), connected(NET, C1, '10.1.0.2'), disconnected(NET, C1)]);
    const net = state.networks[NET]!;
    const draining = new Map([['10.1.0.2', C1]]);
    assert.equal(allocateAddress(net, C2, undefined, draining), '10.1.0.3');
    assert.throws(() => allocateAddress(net, C2, '10.1.0.2', draining), /Address already in use: 10\.1\.0\.2/);
    assert.equal(allocateAddress(net, C1, undefined, draining), '10.1.0.2');
    assert.equal(allocateAddress(net, C2, undefined, new Map()), '10.1.0.2', 'once drained, it is free');
  });

  it('given a gateway inside the range, it is skipped', () => {
    const state = foldNetworks([created(NET, '10.1.0.0/24', { gateway: '10.1.0.2' })]);
    assert.equal(allocateAddress(state.networks[NET]!, C1), '10.1.0.1');
  });

  it('--ip: a free host address is given; a held one, the gateway or one outside the subnet is refused in Docker\'s words', () => {
    const state = foldNetworks([created(NET, '10.1.0.0/24'), connected(NET, C1, '10.1.0.2')]);
    const net = state.networks[NET]!;
    assert.equal(allocateAddress(net, C2, '10.1.0.50'), '10.1.0.50');
    assert.throws(() => allocateAddress(net, C2, '10.1.0.2'), (e: unknown) => e instanceof IpamError && e.status === 409 && /Address already in use/.test(e.message));
    assert.throws(() => allocateAddress(net, C2, '10.1.0.1'), /Address already in use/);
    assert.throws(() => allocateAddress(net, C2, '10.2.0.5'), /Invalid address 10\.2\.0\.5: It does not belong to any of this network's subnets/);
    assert.throws(() => allocateAddress(net, C2, '10.1.0.255'), /does not belong/);
  });

  it('given a full /30, no address is left', () => {
    const state = foldNetworks([created(NET, '10.1.0.0/30'), connected(NET, C1, '10.1.0.2')]);
    assert.throws(() => allocateAddress(state.networks[NET]!, C2), /no available IPv4 addresses on network/);
  });

  it('never hands out an address twice over a long history of connects and disconnects', () => {
    let state = foldNetworks([created(NET, '10.1.0.0/26')]);
    const held = new Map<string, string>();
    for (let i = 0; i < 500; i++) {
      const id = (i % 40).toString(16).padStart(64, '0');
      if (held.has(id) && i % 3 === 0) {
        state = foldNetworks([disconnected(NET, id)], state);
        held.delete(id);
      } else if (!held.has(id)) {
        const ip = allocateAddress(state.networks[NET]!, id);
        assert.equal([...held.values()].includes(ip), false, `${ip} handed out twice`);
        state = foldNetworks([connected(NET, id, ip)], state);
        held.set(id, ip);
      }
    }
  });

  it('the MAC is derived from the address', () => {
    assert.equal(macForAddress('172.17.0.2'), '02:42:ac:11:00:02');
  });
});

describe('the network fold', () => {
  it('given create, connect, publish, disconnect, unpublish and remove, then the state of each step', () => {
    const ports = [{ containerPort: 80, protocol: 'tcp' as const, hostIp: '0.0.0.0', hostPort: 8080 }];
    const events: NetworkEvent[] = [
      created(NET, '10.1.0.0/24', { name: 'app' }), connected(NET, C1, '10.1.0.2', ['web']),
      { type: 'ContainerPortsPublished', data: { id: C1, network: NET, ports } },
    ];
    const s1 = foldNetworks(events);
    assert.equal(findNetwork(s1, 'app')?.id, NET);
    assert.equal(findNetwork(s1, NET.slice(0, 5))?.name, 'app');
    assert.equal(findNetwork(s1, 'nope'), undefined);
    assert.deepEqual(s1.published[C1], { network: NET, ports });
    assert.equal(s1.networks[NET]!.endpoints[C1]!.ip, '10.1.0.2');
    const s2 = foldNetworks([disconnected(NET, C1), { type: 'ContainerPortsUnpublished', data: { id: C1 } }], s1);
    assert.deepEqual(s2.networks[NET]!.endpoints, {});
    assert.deepEqual(s2.published, {});
    assert.deepEqual(foldNetworks([{ type: 'NetworkRemoved', data: { id: NET } }], s2).networks, {});
    // the fold did not change what it was given
    assert.equal(s1.networks[NET]!.endpoints[C1]!.ip, '10.1.0.2');
  });

  it('events for a network it does not know change nothing', () => {
    const s = foldNetworks([connected(NET2, C1, '10.9.0.2')]);
    assert.deepEqual(s, EMPTY_NETWORKS);
  });

  it('resolves names, aliases and short ids case-insensitively; a network without dns resolves nothing', () => {
    const s = foldNetworks([
      created(NET, '10.1.0.0/24'), connected(NET, C1, '10.1.0.2', ['Web']), connected(NET, C2, '10.1.0.3', ['web']),
      created(NET2, '10.2.0.0/24', { dns: false }), connected(NET2, C3, '10.2.0.2'),
    ]);
    const names = new Map([[C1, 'one'], [C2, 'two'], [C3, 'three']]);
    const name = (id: string) => names.get(id);
    assert.deepEqual(resolveName(s.networks[NET]!, 'ONE.', name), ['10.1.0.2']);
    assert.deepEqual(resolveName(s.networks[NET]!, 'web', name), ['10.1.0.2', '10.1.0.3']);
    assert.deepEqual(resolveName(s.networks[NET]!, C2.slice(0, 12), name), ['10.1.0.3']);
    assert.deepEqual(resolveName(s.networks[NET]!, 'three', name), []);
    assert.deepEqual(resolveName(s.networks[NET2]!, 'three', name), []);
  });
});

/** The catalogue's validation of one event: null when it is valid, else the message naming the bad field. */
function checkNetworkEvent(event: NetworkEvent): string | null {
  try {
    validateEvent(event);
    return null;
  } catch (err) {
    if (err instanceof InvalidEventError) return err.message;
    throw err;
  }
}

describe('network events', () => {
  it('validates their data, naming the bad field', () => {
    assert.equal(checkNetworkEvent(created(NET, '10.1.0.0/24')), null);
    assert.equal(checkNetworkEvent(connected(NET, C1, '10.1.0.2')), null);
    assert.match(checkNetworkEvent(created(NET, '10.1.0.0/40')) ?? '', /NetworkCreated\.data\.subnet: expected a CIDR subnet/);
    assert.match(checkNetworkEvent({ type: 'ContainerNetworkConnected', data: { network: NET, id: C1, ip: '10.1.0.256', mac: '02:42:0a:01:00:02', aliases: [], interface: 'eth0' } }) ?? '',
      /ContainerNetworkConnected\.data\.ip: expected an IPv4 address/);
    assert.match(checkNetworkEvent({ type: 'ContainerNetworkConnected', data: { network: NET, id: C1, ip: '10.1.0.2', mac: 'zz', aliases: [], interface: 'eth0' } }) ?? '', /mac/);
    assert.match(checkNetworkEvent({ type: 'ContainerPortsPublished', data: { id: C1, network: NET, ports: [{ containerPort: 0, protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 1 }] } }) ?? '', /containerPort: expected a port/);
    assert.match(checkNetworkEvent({ type: 'NetworkRemoved', data: { id: 'short' } }) ?? '', /NetworkRemoved\.data\.id/);
    assert.equal(networkStream(NET), `network-${NET}`);
  });
});

describe('published ports in use', () => {
  const ports = (hostIp: string, hostPort: number, protocol: 'tcp' | 'udp' = 'tcp') => [{ containerPort: 80, protocol, hostIp, hostPort }];
  it('given ports published by others, a request on the same port conflicts unless the address or protocol differs', () => {
    const state = foldNetworks([
      created(NET, '10.1.0.0/24'),
      { type: 'ContainerPortsPublished', data: { id: C1, network: NET, ports: ports('0.0.0.0', 8080) } },
      { type: 'ContainerPortsPublished', data: { id: C2, network: NET, ports: ports('127.0.0.1', 9090) } },
      { type: 'ContainerPortsPublished', data: { id: C3, network: NET, ports: ports('0.0.0.0', 7070) } },
      { type: 'ContainerPortsUnpublished', data: { id: C3 } },
    ]);
    const inUse = portsInUse(state, C3);
    assert.equal(inUse.length, 2);
    assert.equal(portsInUse(state, C1).length, 1, 'a container\'s own ports are left out');
    const conflicts = (hostIp: string, hostPort: number, protocol: 'tcp' | 'udp' = 'tcp') => inUse.some((p) => portsConflict(p, { protocol, hostIp, hostPort }));
    assert.equal(conflicts('127.0.0.1', 8080), true);
    assert.equal(conflicts('0.0.0.0', 9090), true);
    assert.equal(conflicts('10.0.0.1', 9090), false);
    assert.equal(conflicts('0.0.0.0', 8080, 'udp'), false);
    assert.equal(conflicts('0.0.0.0', 7070), false, 'freed by unpublish');
  });

  it('PortBindings become the driver\'s requests: random, fixed, a range, a host address', () => {
    assert.deepEqual(portRequestsFrom({
      '80/tcp': [{ HostIp: '', HostPort: '' }, { HostIp: '127.0.0.1', HostPort: '8080' }], '53/udp': [{ HostPort: '5300-5310' }], '81': null,
    }), [
      { containerPort: 81, protocol: 'tcp', hostIp: '', hostPort: 0 }, // "81" is an integer key: JavaScript lists it first
      { containerPort: 80, protocol: 'tcp', hostIp: '', hostPort: 0 },
      { containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 8080 },
      { containerPort: 53, protocol: 'udp', hostIp: '', hostPort: 5300, hostPortEnd: 5310 },
    ]);
    assert.throws(() => portRequestsFrom({ 'x/tcp': [] }), /invalid port binding "x\/tcp"/);
    assert.throws(() => portRequestsFrom({ '80/tcp': [{ HostPort: '90-80' }] }), /invalid host port "90-80"/);
  });
});

describe('recovery plan after a crash', () => {
  it('given the host state and the fold, adopts what is in force, undoes what is not, leaves other daemons\' things alone', () => {
    const port = (hostPort: number) => ({ containerPort: 80, protocol: 'tcp' as const, hostIp: '0.0.0.0', hostPort });
    const FOREIGN = 'f'.repeat(64);
    const state = foldNetworks([
      created(NET, '10.1.0.0/24'),
      connected(NET, C1, '10.1.0.2'), { type: 'ContainerPortsPublished', data: { id: C1, network: NET, ports: [port(8080)] } },
      connected(NET, C2, '10.1.0.3'), { type: 'ContainerPortsPublished', data: { id: C2, network: NET, ports: [port(8081)] } },
      connected(NET, C3, '10.1.0.4'), disconnected(NET, C3),
    ]);
    const plan = planNetworkRecovery({
      state,
      running: (id) => id === C1, // C2 exited while the daemon was down; C3 was disconnected
      known: (id) => [C1, C2, C3].includes(id),
      held: {
        bridges: [{ name: 'mdbr-aaaaaaaa', network: NET }, { name: 'mdbr-ffffffff', network: FOREIGN }],
        veths: [
          { name: 'v1', containerId: C1, network: NET }, { name: 'v2', containerId: C2, network: NET },
          { name: 'v3', containerId: C3, network: NET }, { name: 'vf', containerId: FOREIGN, network: FOREIGN },
        ],
        tables: ['ip mini-docker'], ruleNetworks: [NET.slice(0, 12)],
        ports: [
          { containerId: C1, containerIp: '10.1.0.2', port: port(8080) },
          { containerId: C2, containerIp: '10.1.0.3', port: port(8081) },
          { containerId: C3, containerIp: '10.1.0.4', port: port(8082) },
          { containerId: FOREIGN, containerIp: '10.9.0.2', port: port(9090) },
        ],
        dnsListeners: [],
      },
    });
    assert.deepEqual(plan.ensure.map((n) => n.id), [NET]);
    assert.deepEqual(plan.detach.map((d) => d.containerId), [C2, C3]);
    assert.deepEqual(plan.unpublish.map((u) => [u.containerId, u.containerIp, u.ports.map((p) => p.hostPort)]), [[C2, '10.1.0.3', [8081]], [C3, '10.1.0.4', [8082]]]);
    assert.deepEqual(plan.adopted, { veths: 1, ports: 1 });
    assert.deepEqual(plan.foreign, { bridges: ['mdbr-ffffffff'], veths: ['vf'], ports: 1 });
  });
});
