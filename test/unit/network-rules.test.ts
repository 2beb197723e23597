// Unit: what the network service decides by, without I/O (core/engine/network-rules.ts) and its
// lookups over the fold (core/engine/network-lookups.ts): a create's name and MTU option, what
// `network rm` refuses, what a prune takes, which endpoint recovery undoes, a network by reference.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EngineEvent } from '../../events/index.js';
import { ConflictError, ForbiddenError, InvalidArgumentError } from '../../core/engine/errors.js';
import { tryFindAnyNetwork, tryFindNetwork } from '../../core/engine/network-lookups.js';
import { checkNetworkName, DEFAULT_MTU, mtuOf, MTU_OPTION, networksToPrune, removableNetwork, staleEndpoint } from '../../core/engine/network-rules.js';
import { containerCreated, given } from '../fixtures/event-envelopes.js';

const C1 = '1'.repeat(64);
const C2 = '2'.repeat(64);

function networkCreated(id: string, name: string, labels: Record<string, string> = {}): EngineEvent {
  return {
    type: 'NetworkCreated',
    data: {
      id, name, driver: 'bridge', subnet: '172.18.0.0/16', gateway: '172.18.0.1',
      internal: false, labels, bridge: `mdbr-${id.slice(0, 8)}`, mtu: 1500, dns: name !== 'bridge',
    },
  };
}
const connected = (network: string, id: string, ip: string): EngineEvent => ({
  type: 'ContainerNetworkConnected', data: { network, id, ip, mac: '02:42:ac:12:00:02', aliases: [], interface: 'eth0' },
});
const started = (id: string): EngineEvent => ({ type: 'ContainerStarted', data: { id, pid: 4242, shimPid: 4241, drivers: [] } });

const BRIDGE = 'b'.repeat(64);
const APP = 'a1'.repeat(32);
const APP2 = 'a2'.repeat(32);

describe('unit: the network rules and lookups', () => {
  it('a create takes a name of [a-zA-Z0-9][a-zA-Z0-9_.-], never a pre-defined one (moby 403 with its trailing blank)', () => {
    checkNetworkName('app-1.x_y');
    assert.throws(() => checkNetworkName(''), (e: unknown) => e instanceof InvalidArgumentError && /needs a name/.test(e.message));
    assert.throws(() => checkNetworkName('-app'), InvalidArgumentError);
    assert.throws(() => checkNetworkName('a b'), InvalidArgumentError);
    for (const name of ['bridge', 'host', 'none']) {
      assert.throws(() => checkNetworkName(name), (e: unknown) => e instanceof ForbiddenError && e.message === `operation is not permitted on predefined ${name} network `);
    }
  });

  it('the MTU option: the default without it, a whole number from 68 to 65535, any other option refused', () => {
    assert.equal(mtuOf({}), DEFAULT_MTU);
    assert.equal(mtuOf({ [MTU_OPTION]: '' }), DEFAULT_MTU);
    assert.equal(mtuOf({ [MTU_OPTION]: '1400' }), 1400);
    for (const bad of ['67', '65536', '1400.5', 'big']) assert.throws(() => mtuOf({ [MTU_OPTION]: bad }), InvalidArgumentError);
    assert.throws(() => mtuOf({ 'com.docker.network.bridge.name': 'x' }), /is not supported/);
  });

  it('rm refuses host, none and the default bridge (403) and a network a container holds an address on (409); a stopped container connected does not keep it', () => {
    const s = given([
      { type: 'PredefinedNetworkCreated', data: { id: 'f'.repeat(64), name: 'host', driver: 'host' } },
      networkCreated(BRIDGE, 'bridge'), networkCreated(APP, 'app'), networkCreated(APP2, 'idle'),
      containerCreated(C1, 'web'), connected(APP, C1, '172.18.0.2'),
      containerCreated(C2, 'db'), connected(APP2, C2, '172.19.0.2'), { type: 'ContainerNetworkReleased', data: { network: APP2, id: C2 } },
    ]);
    assert.throws(() => removableNetwork(tryFindAnyNetwork(s, 'host')!), (e: unknown) => e instanceof ForbiddenError && /host is a pre-defined network/.test(e.message));
    assert.throws(() => removableNetwork(tryFindAnyNetwork(s, 'bridge')!), (e: unknown) => e instanceof ForbiddenError && /bridge is a pre-defined network/.test(e.message));
    assert.throws(() => removableNetwork(tryFindAnyNetwork(s, 'app')!), (e: unknown) => e instanceof ConflictError && /has active endpoints/.test(e.message));
    assert.equal(removableNetwork(tryFindAnyNetwork(s, 'idle')!).id, APP2);
  });

  it('prune takes the user networks no container holds an address on, by label and label!, in the order they were created', () => {
    const s = given([
      networkCreated(BRIDGE, 'bridge'), networkCreated(APP, 'app', { team: 'a' }), networkCreated(APP2, 'other', { team: 'b', keep: '' }),
      networkCreated('c'.repeat(64), 'busy', { team: 'a' }), containerCreated(C1, 'web'), connected('c'.repeat(64), C1, '172.17.0.2'),
    ]);
    const all = Object.values(s.networks);
    assert.deepEqual(networksToPrune(all, {}).map((n) => n.name), ['app', 'other']);
    assert.deepEqual(networksToPrune(all, { label: ['team=a'] }).map((n) => n.name), ['app']);
    assert.deepEqual(networksToPrune(all, { labelNot: ['keep'] }).map((n) => n.name), ['app']);
    assert.deepEqual(networksToPrune(all, { until: 0 }).map((n) => n.name), []);
  });

  it('recovery undoes an endpoint of a removed container (disconnect) and an address of one that does not run (release); a running one keeps its', () => {
    const held = given([networkCreated(APP, 'app'), containerCreated(C1, 'web'), started(C1), connected(APP, C1, '172.18.0.2')]);
    assert.equal(staleEndpoint(held, held.networks[APP]!), undefined);
    const stopped = given([networkCreated(APP, 'app'), containerCreated(C1, 'web'), connected(APP, C1, '172.18.0.2')]);
    const release = staleEndpoint(stopped, stopped.networks[APP]!);
    assert.deepEqual([release?.endpoint.containerId, release?.removed], [C1, false]);
    const gone = given([networkCreated(APP, 'app'), connected(APP, C2, '172.18.0.3'), { type: 'ContainerNetworkReleased', data: { network: APP, id: C2 } }]);
    const disconnect = staleEndpoint(gone, gone.networks[APP]!);
    assert.deepEqual([disconnect?.endpoint.containerId, disconnect?.removed], [C2, true]);
  });

  it('a network by full id, then name, then a unique id prefix; an ambiguous prefix is a 400; host and none only for tryFindAnyNetwork', () => {
    const s = given([
      networkCreated(APP, 'app'), networkCreated(APP2, APP.slice(0, 12)),
      { type: 'PredefinedNetworkCreated', data: { id: 'e'.repeat(64), name: 'none', driver: 'null' } },
    ]);
    assert.equal(tryFindNetwork(s, APP)?.name, 'app');
    assert.equal(tryFindNetwork(s, APP.slice(0, 12))?.id, APP2, 'a name before an id prefix');
    assert.equal(tryFindNetwork(s, 'a1a1a1a1a1a1a1')?.id, APP);
    assert.throws(() => tryFindNetwork(s, 'a'), /ambiguous \(2 matches found based on ID prefix\)/);
    assert.equal(tryFindNetwork(s, 'none'), undefined);
    assert.equal(tryFindNetwork(s, ''), undefined);
    assert.deepEqual(tryFindAnyNetwork(s, 'none')?.kind, 'predefined');
    assert.equal(tryFindAnyNetwork(s, 'eee')?.network.name, 'none');
    assert.equal(tryFindAnyNetwork(s, 'zzz'), undefined);
  });
});
