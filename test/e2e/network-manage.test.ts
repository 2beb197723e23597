// End-to-end: networks as resources, with mini-docker and the real docker client against a real
// daemon: the default bridge (recorded once, its subnet kept across a restart, its device on the
// host), network create/ls/inspect/rm/prune with their flags and filters, Docker's messages and
// exit codes, the network events in `events`, and nothing left on the host after rm and prune.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { TestDaemon, dockerPart, runCommand } from './harness.js';

const bridgeOf = (id: string): string => `mdbr-${id.slice(0, 8)}`;
/** A /24 of 10.0.0.0/8 no other test is likely to hold at the same time. */
const randomSubnet = (): { subnet: string; gateway: string } => {
  const base = `10.${randomInt(100, 250)}.${randomInt(0, 255)}`;
  return { subnet: `${base}.0/24`, gateway: `${base}.254` };
};

describe('e2e: networks as resources', () => {
  const d = new TestDaemon('network-manage');

  before(async () => {
    await d.start();
  });

  after(async () => {
    await d.cleanup();
    assert.equal((await runCommand('nft', ['list', 'table', 'ip', d.networkTable])).code, 1, 'the cleanup left no table');
  });

  it('the default bridge is there from the start, with no name resolution, and keeps its id and subnet across a restart', async () => {
    const ls = await d.cli(['network', 'ls']);
    assert.equal(ls.code, 0, ls.stderr);
    const lines = ls.stdout.trim().split('\n');
    assert.match(lines[0]!, /^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE$/);
    assert.equal(lines.length, 4, ls.stdout);
    assert.match(lines[1]!, /^[0-9a-f]{12}\s+bridge\s+bridge\s+local$/);
    assert.match(lines[2]!, /^[0-9a-f]{12}\s+host\s+host\s+local$/);
    assert.match(lines[3]!, /^[0-9a-f]{12}\s+none\s+null\s+local$/);
    const builtinIds = (await d.cli(['network', 'ls', '-q', '--no-trunc', '--filter', 'type=builtin'])).stdout.trim().split('\n');
    const inspect = await d.cli(['network', 'inspect', 'bridge']);
    assert.equal(inspect.code, 0, inspect.stderr);
    const [bridge] = JSON.parse(inspect.stdout) as { Id: string; Name: string; IPAM: { Config: { Subnet: string; Gateway: string }[] }; Options: Record<string, string>; Containers: object }[];
    assert.equal(bridge!.Name, 'bridge');
    assert.deepEqual(bridge!.Containers, {});
    assert.equal(bridge!.Options['com.docker.network.bridge.name'], bridgeOf(bridge!.Id));
    assert.ok(existsSync(`/sys/class/net/${bridgeOf(bridge!.Id)}`), 'its device is on the host');
    const addr = await runCommand('ip', ['-4', '-o', 'addr', 'show', 'dev', bridgeOf(bridge!.Id)]);
    assert.match(addr.stdout, new RegExp(`inet ${bridge!.IPAM.Config[0]!.Gateway.replaceAll('.', '\\.')}/`));

    assert.equal(await d.stop(), 0);
    await d.start();
    const again = JSON.parse((await d.cli(['network', 'inspect', 'bridge'])).stdout) as typeof bridge[];
    assert.equal(again[0]!.Id, bridge!.Id);
    assert.deepEqual(again[0]!.IPAM, bridge!.IPAM, 'the subnet the log remembers');
    const ids = (await d.cli(['network', 'ls', '-q', '--no-trunc'])).stdout.trim().split('\n');
    assert.deepEqual(ids, builtinIds, 'one default bridge, one host, one none, with the ids they had: not a second of each');
    assert.equal(ids[0], bridge!.Id);
  });

  it('host and none: listed and inspected as Docker shows them, refused by rm, their containers in inspect', async () => {
    const inspect = await d.cli(['network', 'inspect', 'host', 'none']);
    assert.equal(inspect.code, 0, inspect.stderr);
    type View = { Name: string; Id: string; Driver: string; Scope: string; IPAM: { Driver: string; Config: unknown }; Containers: Record<string, { Name: string; IPv4Address: string; MacAddress: string }>; Options: object; Labels: object };
    const [host, none] = JSON.parse(inspect.stdout) as View[];
    assert.deepEqual([host!.Name, host!.Driver, host!.Scope, host!.IPAM, host!.Options, host!.Labels], ['host', 'host', 'local', { Driver: 'default', Options: null, Config: null }, {}, {}]);
    assert.deepEqual([none!.Name, none!.Driver, none!.IPAM.Config], ['none', 'null', null]);
    assert.match(host!.Id, /^[0-9a-f]{64}$/);
    assert.equal((await d.cli(['network', 'inspect', '-f', '{{.Name}}', host!.Id.slice(0, 12)])).stdout, 'host\n', 'by id prefix');

    for (const name of ['host', 'none']) {
      const rm = await d.cli(['network', 'rm', name]);
      assert.deepEqual([rm.code, rm.stderr], [1, `Error response from daemon: ${name} is a pre-defined network and cannot be removed\n`]);
    }
    const prune = await d.cli(['network', 'prune', '-f']);
    assert.equal(prune.code, 0, prune.stderr);
    assert.equal((await d.cli(['network', 'ls', '-q', '--filter', 'type=builtin'])).stdout.trim().split('\n').length, 3, 'prune leaves them');

    // --network host|none still run as before; the network's inspect lists them while they run, without an address.
    const h = await d.cli(['run', '-d', '--name', 'mn-host', '--network', 'host', 'busybox', 'sleep', '300']);
    assert.equal(h.code, 0, h.stderr);
    const n = await d.cli(['run', '-d', '--name', 'mn-none', '--net', 'none', 'busybox', 'sleep', '300']);
    assert.equal(n.code, 0, n.stderr);
    try {
      const hostNow = (JSON.parse((await d.cli(['network', 'inspect', 'host'])).stdout) as View[])[0]!;
      assert.deepEqual(Object.values(hostNow.Containers).map((c) => [c.Name, c.IPv4Address, c.MacAddress]), [['mn-host', '', '']]);
      const noneNow = (JSON.parse((await d.cli(['network', 'inspect', 'none'])).stdout) as View[])[0]!;
      assert.deepEqual(Object.values(noneNow.Containers).map((c) => c.Name), ['mn-none']);
      const links = await d.cli(['exec', 'mn-none', 'ls', '/sys/class/net']);
      assert.equal(links.stdout.trim(), 'lo', 'none: lo only');
      const netId = await d.cli(['inspect', '-f', '{{.NetworkSettings.Networks.host.NetworkID}} {{.HostConfig.NetworkMode}}', 'mn-host']);
      assert.equal(netId.stdout, `${host!.Id} host\n`);
      assert.equal((await d.cli(['ps', '-q', '--filter', 'network=host'])).stdout.trim().split('\n').length, 1);
      const connect = await d.cli(['network', 'connect', 'host', 'mn-none']);
      assert.equal(connect.code, 1);
      assert.match(connect.stderr, /^Error.*: container cannot be disconnected from host network or connected to host network\n$/);
      const disconnect = await d.cli(['network', 'disconnect', 'none', 'mn-host']);
      assert.equal(disconnect.code, 1);
      assert.match(disconnect.stderr, /is not connected to network none/);
    } finally {
      await d.cli(['rm', '-f', 'mn-host', 'mn-none']);
    }
    assert.deepEqual((JSON.parse((await d.cli(['network', 'inspect', 'host'])).stdout) as View[])[0]!.Containers, {});
    const events = await d.cli(['events', '--since', '0', '--until', '0s', '--filter', 'type=network']);
    assert.ok(events.stdout.includes(`network create ${host!.Id} (name=host, type=host)`), events.stdout);
    assert.ok(events.stdout.includes(`network create ${none!.Id} (name=none, type=null)`), events.stdout);
  });

  it('network create, ls with filters and formats, inspect, rm, and the events they leave', async () => {
    const created = await d.cli(['network', 'create', '--label', 'team=web', 'mn-app']);
    assert.equal(created.code, 0, created.stderr);
    const appId = created.stdout.trim();
    assert.match(appId, /^[0-9a-f]{64}$/);
    assert.ok(existsSync(`/sys/class/net/${bridgeOf(appId)}`));

    const { subnet, gateway } = randomSubnet();
    const backend = await d.cli(['network', 'create', '--subnet', subnet, '--gateway', gateway, '--internal', '-o', 'com.docker.network.driver.mtu=1400', 'mn-backend']);
    assert.equal(backend.code, 0, backend.stderr);
    const backendId = backend.stdout.trim();
    assert.equal((await runCommand('cat', [`/sys/class/net/${bridgeOf(backendId)}/mtu`])).stdout.trim(), '1400');

    const dup = await d.cli(['network', 'create', 'mn-app']);
    assert.deepEqual([dup.code, dup.stderr], [1, 'Error response from daemon: network with name mn-app already exists\n']);
    const overlap = await d.cli(['network', 'create', '--subnet', subnet, 'mn-overlap']);
    assert.deepEqual([overlap.code, overlap.stderr], [1, 'Error response from daemon: invalid pool request: Pool overlaps with other one on this address space\n']);
    // moby's PredefinedNetworkError (403; the API's message ends with a blank the CLI's line drops), as dockerd 20.10 answers for bridge, host and none.
    for (const name of ['host', 'none', 'bridge']) {
      const predefined = await d.cli(['network', 'create', name]);
      assert.deepEqual([predefined.code, predefined.stderr], [1, `Error response from daemon: operation is not permitted on predefined ${name} network\n`]);
    }

    const custom = await d.cli(['network', 'ls', '--filter', 'type=custom', '--format', '{{.Name}} {{.Driver}} {{.Internal}} {{.Labels}}']);
    assert.equal(custom.stdout, 'mn-app bridge false team=web\nmn-backend bridge true \n');
    assert.equal((await d.cli(['network', 'ls', '-q', '--no-trunc', '--filter', 'label=team=web'])).stdout, `${appId}\n`);
    assert.equal((await d.cli(['network', 'ls', '-q', '--filter', 'name=backend'])).stdout, `${backendId.slice(0, 12)}\n`);
    assert.equal((await d.cli(['network', 'ls', '-q', '--filter', 'dangling=true', '--filter', 'driver=bridge'])).stdout.trim().split('\n').length, 2);
    const bad = await d.cli(['network', 'ls', '--filter', 'color=red']);
    assert.deepEqual([bad.code, bad.stderr], [1, "Error response from daemon: invalid filter 'color'\n"]);

    const fmt = await d.cli(['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}} {{.Internal}} {{json .Labels}}', 'mn-backend', appId.slice(0, 10)]);
    assert.equal(fmt.code, 0, fmt.stderr);
    const [first, second] = fmt.stdout.trim().split('\n');
    assert.equal(first, `${subnet} ${gateway} true {}`);
    assert.match(second!, /^172\.\d+\.0\.0\/16 172\.\d+\.0\.1 false \{"team":"web"\}$|^192\.168\.\d+\.0\/20 192\.168\.\d+\.1 false \{"team":"web"\}$/);
    const missing = await d.cli(['network', 'inspect', 'mn-app', 'nope']);
    assert.equal(missing.code, 1);
    assert.equal((JSON.parse(missing.stdout) as unknown[]).length, 1, 'the found one is printed');
    assert.equal(missing.stderr, 'Error response from daemon: network nope not found\n');
    assert.equal((await d.cli(['inspect', '-f', '{{.Name}} {{.Scope}}', 'mn-app'])).stdout, 'mn-app local\n', 'inspect finds networks too');

    const rmBridge = await d.cli(['network', 'rm', 'bridge']);
    assert.deepEqual([rmBridge.code, rmBridge.stderr], [1, 'Error response from daemon: bridge is a pre-defined network and cannot be removed\n']);
    const rm = await d.cli(['network', 'rm', 'mn-app', 'nope']);
    assert.deepEqual([rm.code, rm.stdout, rm.stderr], [1, 'mn-app\n', 'Error response from daemon: network nope not found\n']);
    assert.equal(existsSync(`/sys/class/net/${bridgeOf(appId)}`), false, 'its bridge is gone');

    const events = await d.cli(['events', '--since', '0', '--until', '0s', '--filter', 'type=network']);
    const shown = events.stdout.trim().split('\n').map((l) => l.replace(/^\S+ /, ''));
    assert.ok(shown.includes(`network create ${appId} (name=mn-app, type=bridge)`), events.stdout);
    assert.ok(shown.includes(`network destroy ${appId} (name=mn-app, type=bridge)`), events.stdout);

    const notForced = await d.cli(['network', 'prune']);
    assert.equal(notForced.code, 1, 'prune without -f and no terminal does not prompt');
    const prune = await d.cli(['network', 'prune', '-f']);
    assert.deepEqual([prune.code, prune.stdout], [0, 'Deleted Networks:\nmn-backend\n\n']);
    assert.equal(existsSync(`/sys/class/net/${bridgeOf(backendId)}`), false);
    assert.equal((await d.cli(['network', 'ls', '-q', '--filter', 'type=custom'])).stdout, '');
  });

  it('the docker client: network create, ls, inspect, rm, prune', async (t) => {
    await dockerPart(t, async () => {
      const { subnet, gateway } = randomSubnet();
      const created = await d.docker(['network', 'create', '--subnet', subnet, '--gateway', gateway, '--label', 'by=docker', 'mn-docker']);
      assert.equal(created.code, 0, created.stderr);
      const id = created.stdout.trim();
      const ls = await d.docker(['network', 'ls', '--filter', 'label=by=docker']);
      assert.match(ls.stdout, new RegExp(`^NETWORK ID\\s+NAME\\s+DRIVER\\s+SCOPE\\n${id.slice(0, 12)}\\s+mn-docker\\s+bridge\\s+local\\n$`));
      const inspect = await d.docker(['network', 'inspect', '-f', '{{.Name}} {{.Driver}} {{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}} {{.Labels}}', 'mn-docker']);
      assert.equal(inspect.stdout, `mn-docker bridge ${subnet} ${gateway} map[by:docker]\n`, inspect.stderr);
      const generic = await d.docker(['inspect', '--type', 'network', '-f', '{{.Id}}', 'mn-docker']);
      assert.equal(generic.stdout.trim(), id);
      const dup = await d.docker(['network', 'create', 'mn-docker']);
      assert.equal(dup.code, 1);
      assert.match(dup.stderr, /network with name mn-docker already exists/);
      const rmBridge = await d.docker(['network', 'rm', 'bridge']);
      assert.equal(rmBridge.code, 1);
      assert.match(rmBridge.stderr, /bridge is a pre-defined network and cannot be removed/);
      for (const name of ['host', 'none']) {
        const rmMode = await d.docker(['network', 'rm', name]);
        assert.equal(rmMode.code, 1);
        assert.match(rmMode.stderr, new RegExp(`${name} is a pre-defined network and cannot be removed`));
      }
      const builtin = await d.docker(['network', 'ls', '--filter', 'type=builtin', '--format', '{{.Name}} {{.Driver}} {{.Scope}}']);
      assert.equal(builtin.stdout, 'bridge bridge local\nhost host local\nnone null local\n', builtin.stderr);
      const modes = await d.docker(['network', 'inspect', '-f', '{{.Name}} {{.Driver}} {{len .Containers}} {{.IPAM.Driver}}', 'host', 'none']);
      assert.equal(modes.stdout, 'host host 0 default\nnone null 0 default\n', modes.stderr);
      const missing = await d.docker(['network', 'inspect', 'nope']);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /network nope not found/);
      const rm = await d.docker(['network', 'rm', 'mn-docker']);
      assert.deepEqual([rm.code, rm.stdout], [0, 'mn-docker\n'], rm.stderr);
      assert.equal(existsSync(`/sys/class/net/${bridgeOf(id)}`), false);
      assert.equal((await d.docker(['network', 'create', 'mn-docker2'])).code, 0);
      const prune = await d.docker(['network', 'prune', '-f']);
      assert.deepEqual([prune.code, prune.stdout], [0, 'Deleted Networks:\nmn-docker2\n\n'], prune.stderr);
    });
  });
});
