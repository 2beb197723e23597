// Integration (root, the kernel): the network service (core/engine/network-service.ts) over an
// in-memory log with the real bridge driver on a table of its own. Networks are recorded before the
// driver acts and undone when it fails; the default bridge is recorded once and its subnet kept;
// removal is refused while a container is connected; a removal that died between its event and
// the driver's work is finished by the next start; prune; lookups by name, id and prefix.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes, randomInt } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { containerStream, networkStream } from '../../events/index.js';
import { EngineError } from '../../core/engine/errors.js';
import { EventStore } from '../../core/engine/event-store.js';
import { NetworkService } from '../../core/engine/network-service.js';
import { MemoryEventLog } from '../../core/eventlog/memory-event-log.js';
import { macForAddress } from '../../core/network/ipam.js';
import { specOfNetwork } from '../../core/network/recovery.js';
import type { Driver, DriverContext } from '../../core/plugins/driver.js';
import { PluginRegistry } from '../../core/plugins/plugin-registry.js';
import { BridgeNetworkDriver } from '../../plugins/network-bridge/bridge-network-driver.js';
import { nftListTable } from '../../plugins/network-bridge/host-commands.js';
import { makeScratchDir } from '../fixtures/scratch-dir.js';
import { silentLogger } from './network-helpers.js';

const isRoot = process.getuid?.() === 0;

/** A subnet of 10.0.0.0/8 no other test of this run is likely to hold: /24s at random. */
const randomSubnet = (): string => `10.${randomInt(100, 250)}.${randomInt(0, 255)}.0/24`;

interface Daemon {
  readonly service: NetworkService;
  readonly store: EventStore;
  readonly driver: BridgeNetworkDriver;
  readonly warnings: string[];
}

describe('network service', { skip: isRoot ? false : 'needs root' }, () => {
  const table = `mini-docker-t${randomBytes(3).toString('hex')}`;
  const log = new MemoryEventLog();
  const drivers: BridgeNetworkDriver[] = [];
  const dnsPort = randomInt(20_000, 40_000);
  let scratch: { path: string; dispose(): Promise<void> };

  /** A daemon's network part over the shared log: a new driver instance each time, as after a restart. */
  async function daemon(): Promise<Daemon> {
    const warnings: string[] = [];
    const logger = { info: () => undefined, warn: (m: string) => warnings.push(m), error: (m: string) => warnings.push(m) };
    const driver = new BridgeNetworkDriver({ table, upstreamDns: ['127.0.0.1'], dnsPort });
    drivers.push(driver);
    const registry = new PluginRegistry();
    await registry.initialise([{ driver, packageName: '@tiny-docker/network-bridge' }], async (d: Driver): Promise<DriverContext> => {
      const dir = join(scratch.path, d.id);
      await mkdir(dir, { recursive: true });
      return { dataRoot: scratch.path, execRoot: scratch.path, stateDir: dir, runDir: dir, logger: silentLogger };
    });
    assert.equal(registry.all()[0]?.status, 'ok', registry.all()[0]?.reason);
    const store = new EventStore(log);
    await store.load();
    return { service: new NetworkService(store, registry, logger, { lockDirectory: scratch.path }), store, driver, warnings };
  }

  before(async () => {
    scratch = await makeScratchDir('network-service');
    await log.open();
  });

  after(async () => {
    const last = await daemon();
    for (const n of last.service.list()) await last.driver.removeNetwork(specOfNetwork(n));
    for (const d of drivers) await d.close();
    await scratch.dispose();
  });

  const bridgeUp = (name: string): boolean => existsSync(`/sys/class/net/${name}`);

  it('records the default bridge once (no resolver), keeps its subnet across restarts and makes its device again', async () => {
    const first = await daemon();
    await first.service.start();
    const bridge = first.service.find('bridge');
    assert.equal(bridge.dns, false);
    assert.equal(bridge.driver, 'bridge');
    assert.ok(bridgeUp(bridge.bridge), `${bridge.bridge} exists`);
    assert.deepEqual(first.warnings, []);

    const second = await daemon();
    await second.driver.removeNetwork(specOfNetwork(bridge)); // the host lost it (a reboot)
    assert.equal(bridgeUp(bridge.bridge), false);
    await second.service.start();
    const again = second.service.find('bridge');
    assert.equal(again.id, bridge.id);
    assert.equal(again.subnet, bridge.subnet, 'the subnet is the one the log remembers');
    assert.ok(bridgeUp(bridge.bridge), 'recovery made the device again');
    assert.equal(second.service.list().filter((n) => n.name === 'bridge').length, 1);
  });

  it('records host and none once, with the ids rm refuses and lookups find; they need no driver and are not bridges', async () => {
    const first = await daemon();
    await first.service.start();
    const ids = first.service.predefined().map((p) => [p.name, p.driver, p.id]);
    assert.deepEqual(ids.map(([name, driver]) => [name, driver]), [['host', 'host'], ['none', 'null']]);
    const second = await daemon();
    await second.service.start();
    assert.deepEqual(second.service.predefined().map((p) => [p.name, p.driver, p.id]), ids, 'recorded once: the same ids after a restart');
    const host = second.service.findAny('host');
    assert.equal(host.kind, 'predefined');
    assert.equal(second.service.findAny(host.network.id.slice(0, 12)).network.name, 'host');
    assert.equal(second.service.tryFind('host'), undefined, 'not a bridge network for the start or connect');
    for (const name of ['host', 'none']) {
      await assert.rejects(second.service.remove(name), (err: Error) => err instanceof EngineError && err.status === 403 && err.message === `${name} is a pre-defined network and cannot be removed`);
    }
    await assert.rejects(second.service.create({ name: 'none' }), (err: Error) => err instanceof EngineError && err.status === 403 && err.message === 'operation is not permitted on predefined none network ');
  });

  it('start: an address still held by a container that does not run is released; one of a container the log removed is disconnected', async () => {
    const first = await daemon();
    const id = await first.service.create({ name: 'svc-stale', subnet: randomSubnet() });
    const stopped = randomBytes(32).toString('hex');
    const removed = randomBytes(32).toString('hex');
    await first.store.append(containerStream(stopped), [{
      type: 'ContainerCreated',
      data: {
        id: stopped, name: 'svc-stopped', image: { ref: 'busybox', id: `sha256:${'c'.repeat(64)}` },
        config: {
          Cmd: ['sh'], Entrypoint: null, Env: [], WorkingDir: '', User: '', Hostname: stopped.slice(0, 12), Tty: false, OpenStdin: false,
          StdinOnce: false, AttachStdin: false, AttachStdout: true, AttachStderr: true, Labels: {},
        },
        hostConfig: { AutoRemove: false, LogConfig: { Type: 'json-file', Config: {} } },
      },
    }], 'no-stream');
    // As a daemon that died between an exit's record and its release would leave them.
    const n = first.store.state().networks[id]!;
    const [a, b] = [n.subnet.replace(/0\/24$/, '2'), n.subnet.replace(/0\/24$/, '3')];
    await first.store.append(networkStream(id), [
      { type: 'ContainerNetworkConnected', data: { network: id, id: stopped, ip: a, mac: macForAddress(a), aliases: ['x'], interface: 'eth0' } },
      { type: 'ContainerNetworkConnected', data: { network: id, id: removed, ip: b, mac: macForAddress(b), aliases: [], interface: 'eth0' } },
    ], n.version);

    const second = await daemon();
    await second.service.start();
    const after = second.store.state().networks[id]!;
    assert.deepEqual(Object.keys(after.endpoints), [stopped], 'the removed container is disconnected');
    assert.deepEqual([after.endpoints[stopped]!.held, after.endpoints[stopped]!.aliases], [false, ['x']], 'the stopped one stays connected, holding nothing');
    assert.ok(second.warnings.some((w) => w.includes(`${a} released`)), second.warnings.join('\n'));
    const third = await daemon();
    await third.service.start();
    assert.equal(third.store.state().networks[id]!.version, after.version, 'nothing more to release');
    // Gone again, with the resolvers each of these daemons started for it (the next tests bind the port).
    await third.store.append(networkStream(id), [{ type: 'ContainerNetworkDisconnected', data: { network: id, id: stopped } }], after.version);
    await third.service.remove(id);
    for (const d of [first, second]) await d.driver.removeNetwork(specOfNetwork(after));
  });

  it('creates a network: the event first, then the bridge with the gateway address; lookups by name, id and prefix', async () => {
    const { service, store } = await daemon();
    const subnet = randomSubnet();
    const id = await service.create({ name: 'svc-app', subnet, labels: { team: 'web' } });
    const n = service.find('svc-app');
    assert.equal(n.id, id);
    assert.equal(service.find(id).name, 'svc-app');
    assert.equal(service.find(id.slice(0, 12)).name, 'svc-app');
    assert.equal(n.subnet, subnet);
    assert.equal(n.gateway, subnet.replace(/0\/24$/, '1'));
    assert.equal(n.dns, true);
    assert.deepEqual(n.labels, { team: 'web' });
    assert.equal(n.version, 1);
    assert.equal(store.log.streamVersion(networkStream(id)), 1);
    assert.ok(bridgeUp(n.bridge));
    const stdout = execFileSync('ip', ['-4', '-o', 'addr', 'show', 'dev', n.bridge], { encoding: 'utf8' });
    assert.match(stdout, new RegExp(`inet ${n.gateway.replaceAll('.', '\\.')}/24`));
    await assert.rejects(service.create({ name: 'svc-app' }), (e: Error & { status?: number }) => e.status === 409 && /network with name svc-app already exists/.test(e.message));
    await assert.rejects(service.create({ name: 'host' }), (e: Error & { status?: number }) => e.status === 403 && e.message === 'operation is not permitted on predefined host network ');
    await assert.rejects(service.create({ name: 'svc-overlap', subnet }), (e: Error & { status?: number }) => e.status === 403 && /Pool overlaps/.test(e.message));
    await assert.rejects(service.create({ name: 'bad name!' }), /invalid network name/);
    await assert.rejects(service.create({ name: 'svc-x', driver: 'overlay' }), (e: Error & { status?: number }) => e.status === 404 && /plugin "overlay" not found/.test(e.message));
    assert.throws(() => service.find('nope'), (e: Error & { status?: number }) => e.status === 404 && e.message === 'network nope not found');
    await service.remove('svc-app');
    assert.equal(bridgeUp(n.bridge), false);
  });

  it('two creations of one name at once: one network, the other 409; of two names: two subnets', async () => {
    const { service } = await daemon();
    const same = await Promise.allSettled([service.create({ name: 'svc-race' }), service.create({ name: 'svc-race' })]);
    assert.deepEqual(same.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    const [a, b] = await Promise.all([service.create({ name: 'svc-one' }), service.create({ name: 'svc-two' })]);
    assert.notEqual(service.find(a).subnet, service.find(b).subnet);
    for (const name of ['svc-race', 'svc-one', 'svc-two']) await service.remove(name);
  });

  it('a driver failure undoes the creation: NetworkRemoved recorded, no bridge left, one line naming the network', async () => {
    const { service, store } = await daemon();
    // Something holds the resolver's port on every address: the resolver cannot start on the gateway.
    const holder: Socket = createSocket('udp4');
    await new Promise<void>((resolve) => holder.bind(dnsPort, '0.0.0.0', resolve));
    try {
      await assert.rejects(service.create({ name: 'svc-fails', subnet: randomSubnet() }), /^Error: cannot create network svc-fails: cannot start the resolver/);
    } finally {
      holder.close();
    }
    assert.equal(service.tryFind('svc-fails'), undefined);
    const types: string[] = [];
    for await (const e of store.log.read()) if (e.streamId.startsWith('network-')) types.push(e.type);
    assert.deepEqual(types.slice(-2), ['NetworkCreated', 'NetworkRemoved']);
    const removedId = [];
    for await (const e of store.log.read()) if (e.type === 'NetworkRemoved') removedId.push(e.data.id);
    assert.equal(bridgeUp(`mdbr-${removedId.at(-1)!.slice(0, 8)}`), false);
  });

  it('refuses to remove a network a running container is connected to (Docker\'s message), and the default bridge; a stopped one does not keep it', async () => {
    const { service, store } = await daemon();
    const id = await service.create({ name: 'svc-busy', subnet: randomSubnet() });
    const n = service.find(id);
    const container = 'c'.repeat(64);
    await store.append(networkStream(id), [{
      type: 'ContainerNetworkConnected', data: { network: id, id: container, ip: n.subnet.replace(/0\/24$/, '2'), mac: '02:42:0a:00:00:02', aliases: [], interface: 'eth0' },
    }], n.version);
    await assert.rejects(service.remove('svc-busy'), (e: Error & { status?: number }) => e.status === 409
      && e.message === `error while removing network: network svc-busy id ${id} has active endpoints`);
    await assert.rejects(service.remove('bridge'), (e: Error & { status?: number }) => e.status === 403 && /pre-defined network/.test(e.message));
    // Stopped (its address released), it is still connected but no longer an active endpoint: the removal goes ahead, as Docker's.
    await store.append(networkStream(id), [{ type: 'ContainerNetworkReleased', data: { network: id, id: container } }], service.find(id).version);
    assert.deepEqual(Object.keys(service.find(id).endpoints), [container]);
    await service.remove(id.slice(0, 10));
    assert.equal(service.tryFind('svc-busy'), undefined);
    assert.equal(bridgeUp(n.bridge), false);
  });

  it('a removal recorded but not carried out (the daemon died in between) is finished by the next start', async () => {
    const first = await daemon();
    const id = await first.service.create({ name: 'svc-orphan', subnet: randomSubnet() });
    const n = first.service.find(id);
    await first.store.append(networkStream(id), [{ type: 'NetworkRemoved', data: { id } }], n.version); // then the daemon died
    assert.ok(bridgeUp(n.bridge));
    const second = await daemon();
    await second.service.start();
    assert.equal(bridgeUp(n.bridge), false, 'the bridge of a network the log removed is gone');
    assert.ok(second.warnings.some((w) => w.includes(`removing the bridge ${n.bridge} of network svc-orphan`)), second.warnings.join('\n'));
    const held = await second.driver.list();
    assert.equal(held.ruleNetworks.includes(id.slice(0, 12)), false, 'its rules too');
  });

  it('a bridge of another daemon (a network this log never created) is left alone', async () => {
    const other = new BridgeNetworkDriver({ table: `${table}o` });
    drivers.push(other);
    const foreignId = randomBytes(32).toString('hex');
    const spec = { id: foreignId, bridge: `mdbr-${foreignId.slice(0, 8)}`, subnet: randomSubnet(), gateway: '', mtu: 1500, internal: false, dns: false };
    const foreign = { ...spec, gateway: spec.subnet.replace(/0\/24$/, '1') };
    await other.ensureNetwork(foreign);
    try {
      const { service } = await daemon();
      await service.start();
      assert.ok(bridgeUp(foreign.bridge));
    } finally {
      await other.removeNetwork(foreign);
    }
  });

  it('prune removes user networks without containers (label filters, until), never the default bridge', async () => {
    const { service, store } = await daemon();
    const keep = await service.create({ name: 'svc-keep', subnet: randomSubnet(), labels: { keep: 'yes' } });
    const busy = await service.create({ name: 'svc-inuse', subnet: randomSubnet() });
    const gone = await service.create({ name: 'svc-gone', subnet: randomSubnet() });
    const n = service.find(busy);
    await store.append(networkStream(busy), [{
      type: 'ContainerNetworkConnected', data: { network: busy, id: 'd'.repeat(64), ip: n.subnet.replace(/0\/24$/, '2'), mac: '02:42:0a:00:00:02', aliases: [], interface: 'eth0' },
    }], n.version);
    assert.deepEqual(await service.prune({ until: Date.parse('2000-01-01T00:00:00Z') }), [], 'nothing created before 2000');
    assert.deepEqual(await service.prune({ labelNot: ['keep'] }), ['svc-gone']);
    assert.equal(bridgeUp(`mdbr-${gone.slice(0, 8)}`), false);
    assert.ok(service.tryFind('bridge'));
    assert.ok(service.tryFind(keep));
    assert.deepEqual(await service.prune({ label: ['keep=yes'] }), ['svc-keep']);
    await store.append(networkStream(busy), [{ type: 'ContainerNetworkDisconnected', data: { network: busy, id: 'd'.repeat(64) } }], service.find(busy).version);
    assert.deepEqual(await service.prune(), ['svc-inuse']);
    assert.deepEqual(service.list().map((x) => x.name), ['bridge']);
    const listing = await nftListTable('ip', table);
    assert.ok(listing !== null, 'the default bridge keeps the table');
  });
});
