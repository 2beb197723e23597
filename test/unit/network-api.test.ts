// Unit: networks as Docker's API shows them (core/api/network-presenters.ts), the list's filters
// as moby selects, prune's until, and Docker's create body narrowed (core/api/network-routes.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NetworkEvent } from '../../events/index.js';
import { EngineError } from '../../core/engine/errors.js';
import { parseFilters } from '../../core/api/http-params.js';
import { presentNetwork, presentPredefined, pruneUntil, selectNetworks } from '../../core/api/network-presenters.js';
import { parseCreateNetworkBody } from '../../core/api/network-routes.js';
import { endpointIdOf, foldNetworks } from '../../core/network/network-state.js';
import type { ContainerState } from '../../core/state/engine-state.js';

const BRIDGE = 'b'.repeat(64);
const APP = 'a'.repeat(64);
const DB = 'ad' + 'd'.repeat(62);
const C1 = '1'.repeat(64);

const created = (id: string, name: string, subnet: string, labels: Record<string, string> = {}, mtu = 1500): NetworkEvent => ({
  type: 'NetworkCreated',
  data: {
    id, name, driver: 'bridge', subnet, gateway: subnet.replace(/\.0\/\d+$/, '.1'), internal: name === 'db', labels,
    bridge: `mdbr-${id.slice(0, 8)}`, mtu, dns: name !== 'bridge',
  },
});
const state = foldNetworks([
  created(BRIDGE, 'bridge', '172.17.0.0/16'),
  created(APP, 'app', '172.18.0.0/16', { team: 'web', tier: 'front' }),
  created(DB, 'db', '10.5.0.0/24', { team: 'data' }, 1400),
  { type: 'ContainerNetworkConnected', data: { network: APP, id: C1, ip: '172.18.0.2', mac: '02:42:ac:12:00:02', aliases: ['www'], interface: 'eth0' } },
]);
const all = Object.values(state.networks);
const names = (filters: string): string[] => selectNetworks(all, parseFilters(filters)).map((n) => n.name);
const status = (f: () => unknown): number => {
  try {
    f();
  } catch (err) {
    return err instanceof EngineError ? err.status : -1;
  }
  return 0;
};

describe('unit: network presenters', () => {
  it('inspect shows Docker\'s fields, the containers with their address and prefix, and the endpoint id', () => {
    const containers = { [C1]: { name: 'web' } as ContainerState };
    const view = presentNetwork(state.networks[APP]!, containers, true);
    assert.equal(view.Name, 'app');
    assert.equal(view.Id, APP);
    assert.equal(view.Scope, 'local');
    assert.equal(view.Driver, 'bridge');
    assert.equal(view.EnableIPv6, false);
    assert.deepEqual(view.IPAM, { Driver: 'default', Options: null, Config: [{ Subnet: '172.18.0.0/16', Gateway: '172.18.0.1' }] });
    assert.deepEqual(view.Containers, {
      [C1]: { Name: 'web', EndpointID: endpointIdOf(APP, C1), MacAddress: '02:42:ac:12:00:02', IPv4Address: '172.18.0.2/16', IPv6Address: '' },
    });
    assert.deepEqual(view.Options, {});
    assert.deepEqual(view.Labels, { team: 'web', tier: 'front' });
    assert.deepEqual(presentNetwork(state.networks[APP]!, containers, false).Containers, {}, 'the list leaves containers out, as Docker');
  });

  it('the default bridge shows Docker\'s bridge options with its device; a given MTU is an option', () => {
    const bridge = presentNetwork(state.networks[BRIDGE]!, {}, true);
    assert.equal(bridge.Options['com.docker.network.bridge.default_bridge'], 'true');
    assert.equal(bridge.Options['com.docker.network.bridge.name'], `mdbr-${BRIDGE.slice(0, 8)}`);
    assert.deepEqual(presentNetwork(state.networks[DB]!, {}, true).Options, { 'com.docker.network.driver.mtu': '1400' });
    assert.equal(presentNetwork(state.networks[DB]!, {}, true).Internal, true);
  });
});

describe('unit: the pre-defined host and none networks', () => {
  const HOST = 'e'.repeat(64);
  const modes = foldNetworks([
    { type: 'PredefinedNetworkCreated', data: { id: HOST, name: 'host', driver: 'host' } },
    { type: 'PredefinedNetworkCreated', data: { id: 'f'.repeat(64), name: 'none', driver: 'null' } },
  ]);
  const container = (id: string, name: string, mode: string, status: ContainerState['status']): ContainerState =>
    ({ id, name, status, hostConfig: { NetworkMode: mode } } as ContainerState);

  it('inspect shows Docker\'s host network: driver host, no IPAM config, no options; its running containers without an address', () => {
    const containers = {
      [C1]: container(C1, 'h1', 'host', 'running'),
      ['2'.repeat(64)]: container('2'.repeat(64), 'h2', 'host', 'exited'),
      ['3'.repeat(64)]: container('3'.repeat(64), 'n1', 'none', 'running'),
    };
    const view = presentPredefined(modes.predefined.host!, containers, true);
    assert.deepEqual([view.Name, view.Id, view.Driver, view.Scope, view.Internal], ['host', HOST, 'host', 'local', false]);
    assert.deepEqual(view.IPAM, { Driver: 'default', Options: null, Config: null });
    assert.deepEqual([view.Options, view.Labels], [{}, {}]);
    assert.deepEqual(view.Containers, { [C1]: { Name: 'h1', EndpointID: endpointIdOf(HOST, C1), MacAddress: '', IPv4Address: '', IPv6Address: '' } });
    assert.deepEqual(Object.values(presentPredefined(modes.predefined.none!, containers, true).Containers).map((c) => c.Name), ['n1']);
    assert.equal(presentPredefined(modes.predefined.none!, containers, true).Driver, 'null');
    assert.deepEqual(presentPredefined(modes.predefined.host!, containers, false).Containers, {}, 'not in the list');
  });

  it('the list filters take them as builtin networks, never dangling', () => {
    const listed = [...all, ...Object.values(modes.predefined)];
    const select = (filters: string): string[] => selectNetworks(listed, parseFilters(filters)).map((n) => n.name);
    assert.deepEqual(select(''), ['app', 'bridge', 'db', 'host', 'none']);
    assert.deepEqual(select('{"type":["builtin"]}'), ['bridge', 'host', 'none']);
    assert.deepEqual(select('{"driver":["null"]}'), ['none']);
    assert.deepEqual(select('{"dangling":["true"]}'), ['db']);
    assert.deepEqual(select('{"label":["team"]}'), ['app', 'db']);
    assert.deepEqual(select(`{"id":["${HOST.slice(0, 6)}"]}`), ['host']);
  });
});

describe('unit: network list filters (moby\'s)', () => {
  it('no filter: every network, by name', () => {
    assert.deepEqual(names(''), ['app', 'bridge', 'db']);
  });

  it('name and id match anywhere (a regular expression), several values are alternatives', () => {
    assert.deepEqual(names('{"name":["ap"]}'), ['app']);
    assert.deepEqual(names('{"name":["^b","^d"]}'), ['bridge', 'db']);
    assert.deepEqual(names('{"id":["aa","bb"]}'), ['app', 'bridge']);
    assert.deepEqual(names(`{"id":["${DB.slice(0, 4)}"]}`), ['db']);
  });

  it('label by key or key=value; driver; scope; type custom/builtin; dangling', () => {
    assert.deepEqual(names('{"label":["team"]}'), ['app', 'db']);
    assert.deepEqual(names('{"label":["team=data"]}'), ['db']);
    assert.deepEqual(names('{"label":{"team=web":true}}'), ['app']);
    assert.deepEqual(names('{"label":["team","tier=front"]}'), ['app'], 'every label filter must match');
    assert.deepEqual(names('{"label":["team=web","team=data"]}'), []);
    assert.deepEqual(names('{"driver":["bridge"]}'), ['app', 'bridge', 'db']);
    assert.deepEqual(names('{"driver":["overlay"]}'), []);
    assert.deepEqual(names('{"scope":["local"]}'), ['app', 'bridge', 'db']);
    assert.deepEqual(names('{"scope":["swarm"]}'), []);
    assert.deepEqual(names('{"type":["builtin"]}'), ['bridge']);
    assert.deepEqual(names('{"type":["custom"]}'), ['app', 'db']);
    assert.deepEqual(names('{"dangling":["true"]}'), ['db'], 'no containers and not pre-defined');
    assert.deepEqual(names('{"dangling":["false"]}'), ['app', 'bridge']);
  });

  it('unknown keys and bad values are 400s naming them', () => {
    assert.equal(status(() => names('{"color":["red"]}')), 400);
    assert.equal(status(() => names('{"type":["weird"]}')), 400);
    assert.equal(status(() => names('{"dangling":["maybe"]}')), 400);
  });

  it('prune\'s until: a Go duration before now, unix seconds, or an RFC 3339 time', () => {
    const now = Date.parse('2026-12-07T12:00:00Z');
    assert.equal(pruneUntil('24h', now), now - 24 * 3_600_000);
    assert.equal(pruneUntil('1h30m', now), now - 90 * 60_000);
    assert.equal(pruneUntil('1765108800', now), 1_765_108_800_000);
    assert.equal(pruneUntil('2026-12-07T11:00:00Z', now), Date.parse('2026-12-07T11:00:00Z'));
    assert.equal(status(() => pruneUntil('yesterday', now)), 400);
  });
});

describe('unit: POST /networks/create body', () => {
  it('takes Name, Driver, Internal, Labels, Options and the first IPAM config', () => {
    assert.deepEqual(parseCreateNetworkBody({
      Name: 'app', Driver: 'bridge', Internal: true, Labels: { a: 'b' }, CheckDuplicate: true, Attachable: false, EnableIPv6: false,
      Options: { 'com.docker.network.driver.mtu': '1400' }, IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: '10.5.0.0/24', Gateway: '10.5.0.254' }] },
    }), {
      name: 'app', driver: 'bridge', internal: true, labels: { a: 'b' }, subnet: '10.5.0.0/24', gateway: '10.5.0.254',
      options: { 'com.docker.network.driver.mtu': '1400' },
    });
  });

  it('docker-compose\'s body (IPAM with no config, empty strings) is a plain bridge network', () => {
    assert.deepEqual(parseCreateNetworkBody({ Name: 'proj_default', Driver: 'bridge', Options: {}, IPAM: { Driver: 'default', Config: [] }, Internal: false, Labels: {} }), {
      name: 'proj_default', driver: 'bridge', internal: false, labels: {}, options: {},
    });
    assert.deepEqual(parseCreateNetworkBody({ Name: 'x', Driver: '', IPAM: null }), { name: 'x', internal: false });
  });

  it('refuses what it cannot do, by name: no name (400), IPv6 (501), two subnets (501), another IPAM driver (400)', () => {
    assert.equal(status(() => parseCreateNetworkBody({})), 400);
    assert.equal(status(() => parseCreateNetworkBody({ Name: 'x', EnableIPv6: true })), 501);
    assert.equal(status(() => parseCreateNetworkBody({ Name: 'x', IPAM: { Config: [{ Subnet: '10.1.0.0/24' }, { Subnet: '10.2.0.0/24' }] } })), 501);
    assert.equal(status(() => parseCreateNetworkBody({ Name: 'x', IPAM: { Driver: 'dhcp' } })), 400);
    assert.equal(status(() => parseCreateNetworkBody({ Name: 'x', Internal: 'yes' })), 400);
  });
});
