// End-to-end: containers on networks through bin/mini-docker and a real daemon: published ports
// reached from the host, names on user networks, network connect/disconnect, --network modes,
// the /etc files, 40 parallel starts, and a daemon killed -9 while ports are published.
// Traffic goes only to 127.0.0.1 and to the addresses of containers these tests made.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { TestDaemon, dockerPart, runCommand, until } from './harness.js';

/** A TCP port the kernel says is free now (bound for a moment on 0.0.0.0, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '0.0.0.0', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** `curl` of a URL of this machine: the body, or null when nothing answers. */
async function curl(url: string, timeoutSeconds = 3): Promise<string | null> {
  const r = await runCommand('curl', ['-sS', '--max-time', String(timeoutSeconds), url]);
  return r.code === 0 ? r.stdout : null;
}

/** A busybox httpd serving `page` at / on port 80. */
function httpd(page: string): string[] {
  return ['busybox', 'sh', '-c', `mkdir -p /www && echo ${page} > /www/index.html && exec httpd -f -p 80 -h /www`];
}

async function networkCreate(d: TestDaemon, name: string): Promise<void> {
  const r = await d.cli(['network', 'create', name]);
  assert.equal(r.code, 0, r.stderr);
}

async function networkRm(d: TestDaemon, ...names: string[]): Promise<void> {
  const r = await d.cli(['network', 'rm', ...names]);
  assert.equal(r.code, 0, r.stderr);
}

interface Inspected {
  readonly Id: string;
  readonly Name: string;
  readonly NetworkSettings: {
    readonly IPAddress: string;
    readonly Gateway: string;
    readonly MacAddress: string;
    readonly IPPrefixLen: number;
    readonly Ports: Record<string, { HostIp: string; HostPort: string }[] | null>;
    readonly Networks: Record<string, { IPAddress: string; Gateway: string; MacAddress: string; Aliases: string[] | null; NetworkID: string; EndpointID: string; IPPrefixLen: number }>;
  };
}

async function inspect(d: TestDaemon, ref: string): Promise<Inspected> {
  const r = await d.cli(['inspect', ref]);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as Inspected[])[0]!;
}

/** The host ends of veth pairs of a container (mdv + 7 of its id). */
function vethsOf(id: string): string[] {
  return readdirSync('/sys/class/net').filter((n) => n.startsWith(`mdv${id.slice(0, 7)}`));
}

/** The published-port elements of the daemon's nft table (their comments are container ids). */
async function nftPortsOf(d: TestDaemon, id: string): Promise<number> {
  const r = await runCommand('nft', ['list', 'table', 'ip', d.networkTable]);
  if (r.code !== 0) return 0;
  return r.stdout.split('\n').filter((l) => l.includes(id)).length;
}

describe('e2e: containers on networks', () => {
  const d = new TestDaemon('netcont');
  before(async () => { await d.start(); });
  after(async () => { await d.cleanup(); });

  it('run -d -p HOSTPORT:80 serves the page on 127.0.0.1:HOSTPORT; after stop the port is closed and its rules are gone', async () => {
    const port = await freePort();
    const run = await d.cli(['run', '-d', '--name', 'web-fixed', '-p', `${port}:80`, ...httpd('hello-fixed')]);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    const page = await until('the page through the published port', async () => (await curl(`http://127.0.0.1:${port}/`)) ?? undefined);
    assert.equal(page, 'hello-fixed\n');
    const ps = await d.cli(['ps', '--filter', `id=${id}`]);
    assert.match(ps.stdout, new RegExp(`0\\.0\\.0\\.0:${port}->80/tcp`));
    assert.ok(await nftPortsOf(d, id) > 0, 'the port is in the table');
    assert.equal((await d.cli(['stop', '-t', '1', id])).code, 0);
    assert.equal(await curl(`http://127.0.0.1:${port}/`, 1), null, 'nothing answers after stop');
    assert.equal(await nftPortsOf(d, id), 0, 'the rules are gone');
    // The pair's deletion is asked for right after stop answers (docs/networking.md): it goes within moments.
    await until('the veth pair to go with the namespace', () => (vethsOf(id).length === 0 ? true : undefined));
    const port80 = await d.cli(['port', id, '80']);
    assert.equal(port80.code, 1);
    assert.match(port80.stderr, /No public port '80\/tcp' published for web-fixed/);
    // Started again: the same address, the port published again.
    const before = (await inspect(d, id)).NetworkSettings.Networks.bridge;
    assert.equal((await d.cli(['start', id])).code, 0);
    assert.equal(await until('the page after a restart', async () => (await curl(`http://127.0.0.1:${port}/`)) ?? undefined), 'hello-fixed\n');
    const again = (await inspect(d, id)).NetworkSettings.Networks.bridge;
    assert.equal(again?.NetworkID, before?.NetworkID);
    assert.equal((await d.cli(['rm', '-f', id])).code, 0);
    assert.equal(await nftPortsOf(d, id), 0);
  });

  it('-p 80 gets a random host port that port reports; inspect shows NetworkSettings as Docker', async () => {
    const run = await d.cli(['run', '-d', '--name', 'web-random', '-p', '80', ...httpd('hello-random')]);
    assert.equal(run.code, 0, run.stderr);
    const all = await d.cli(['port', 'web-random']);
    assert.equal(all.code, 0, all.stderr);
    const m = /^80\/tcp -> 0\.0\.0\.0:(\d+)$/m.exec(all.stdout);
    assert.ok(m, all.stdout);
    const hostPort = Number(m[1]);
    assert.equal((await d.cli(['port', 'web-random', '80/tcp'])).stdout, `0.0.0.0:${hostPort}\n`);
    assert.equal(await until('the page on the random port', async () => (await curl(`http://127.0.0.1:${hostPort}/`)) ?? undefined), 'hello-random\n');
    const ns = (await inspect(d, 'web-random')).NetworkSettings;
    assert.deepEqual(ns.Ports['80/tcp'], [{ HostIp: '0.0.0.0', HostPort: String(hostPort) }]);
    const bridge = ns.Networks.bridge;
    assert.ok(bridge, JSON.stringify(ns.Networks));
    assert.match(bridge.IPAddress, /^\d+\.\d+\.\d+\.\d+$/);
    assert.equal(ns.IPAddress, bridge.IPAddress, 'the default bridge\'s address at the top level');
    assert.equal(ns.Gateway, bridge.Gateway);
    assert.equal(ns.MacAddress, bridge.MacAddress);
    assert.equal(bridge.MacAddress, `02:42:${bridge.IPAddress.split('.').map((b) => Number(b).toString(16).padStart(2, '0')).join(':')}`);
    assert.match(bridge.NetworkID, /^[0-9a-f]{64}$/);
    assert.match(bridge.EndpointID, /^[0-9a-f]{64}$/);
    assert.equal(bridge.Aliases, null, 'no aliases on the default bridge');
    // The container's own view: eth0 with that address, /etc/hosts naming it.
    const inside = await d.cli(['exec', 'web-random', 'sh', '-c', 'ip -4 addr show eth0; cat /etc/hosts; cat /etc/hostname']);
    assert.match(inside.stdout, new RegExp(`inet ${bridge.IPAddress.replace(/\./g, '\\.')}/${bridge.IPPrefixLen}`));
    const short = (await inspect(d, 'web-random')).Id.slice(0, 12);
    assert.match(inside.stdout, new RegExp(`^${bridge.IPAddress.replace(/\./g, '\\.')}\\t${short}$`, 'm'));
    assert.match(inside.stdout, new RegExp(`^${short}$`, 'm'));
    assert.equal((await d.cli(['rm', '-f', 'web-random'])).code, 0);
  });

  it('a port already taken fails the start with Docker\'s message and leaves nothing', async () => {
    const port = await freePort();
    assert.equal((await d.cli(['run', '-d', '--name', 'holder', '-p', `${port}:80`, ...httpd('x')])).code, 0);
    const second = await d.cli(['run', '-d', '--name', 'loser', '-p', `${port}:80`, ...httpd('y')]);
    assert.equal(second.code, 125);
    assert.match(second.stderr, new RegExp(`Bind for 0\\.0\\.0\\.0:${port} failed: port is already allocated`));
    const loser = await inspect(d, 'loser');
    assert.deepEqual(vethsOf(loser.Id), []);
    assert.equal(await nftPortsOf(d, loser.Id), 0);
    assert.equal((await d.cli(['rm', '-f', 'holder', 'loser'])).code, 0);
  });

  it('containers on a user network reach each other by name and alias; another network cannot until network connect', async () => {
    await networkCreate(d, 'app');
    await networkCreate(d, 'other');
    const web = await d.cli(['run', '-d', '--name', 'web', '--network', 'app', '--network-alias', 'www', ...httpd('hello-app')]);
    assert.equal(web.code, 0, web.stderr);
    const webIp = (await inspect(d, 'web')).NetworkSettings.Networks.app!.IPAddress;
    const byName = await until('web answering by name', async () => {
      const r = await d.cli(['run', '--rm', '--network', 'app', 'busybox', 'timeout', '3', 'wget', '-qO-', 'http://web/']);
      return r.code === 0 ? r.stdout : undefined;
    });
    assert.equal(byName, 'hello-app\n');
    const byAlias = await d.cli(['run', '--rm', '--network', 'app', 'busybox', 'timeout', '3', 'wget', '-qO-', 'http://www/']);
    assert.equal(byAlias.stdout, 'hello-app\n', byAlias.stderr);
    const ping = await d.cli(['run', '--rm', '--network', 'app', 'busybox', 'ping', '-c', '1', '-W', '3', 'web']);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    assert.match(ping.stdout, new RegExp(webIp.replace(/\./g, '\\.')));
    const resolv = await d.cli(['run', '--rm', '--network', 'app', 'busybox', 'cat', '/etc/resolv.conf']);
    const gateway = (await inspect(d, 'web')).NetworkSettings.Networks.app!.Gateway;
    assert.match(resolv.stdout, new RegExp(`^nameserver ${gateway.replace(/\./g, '\\.')}$`, 'm'), 'the embedded resolver on the gateway');

    // From another network: neither the name nor the address.
    assert.equal((await d.cli(['run', '-d', '--name', 'outsider', '--network', 'other', 'busybox', 'sleep', '600'])).code, 0);
    const noName = await d.cli(['exec', 'outsider', 'timeout', '2', 'wget', '-qO-', 'http://web/']);
    assert.notEqual(noName.code, 0);
    const noRoute = await d.cli(['exec', 'outsider', 'timeout', '2', 'wget', '-qO-', `http://${webIp}/`]);
    assert.notEqual(noRoute.code, 0, 'networks are isolated');

    // network connect: the running outsider gets eth1 on app, and reaches web by name.
    const connect = await d.cli(['network', 'connect', '--alias', 'visitor', 'app', 'outsider']);
    assert.equal(connect.code, 0, connect.stderr);
    const outsider = await inspect(d, 'outsider');
    assert.ok(outsider.NetworkSettings.Networks.app?.IPAddress, JSON.stringify(outsider.NetworkSettings.Networks));
    assert.ok(outsider.NetworkSettings.Networks.app.Aliases?.includes('visitor'));
    const nowReached = await d.cli(['exec', 'outsider', 'timeout', '3', 'wget', '-qO-', 'http://web/']);
    assert.equal(nowReached.stdout, 'hello-app\n', nowReached.stderr);
    const interfaces = await d.cli(['exec', 'outsider', 'ls', '/sys/class/net']);
    assert.deepEqual(interfaces.stdout.split(/\s+/).filter(Boolean).sort(), ['eth0', 'eth1', 'lo']);
    const byVisitor = await d.cli(['exec', 'web', 'ping', '-c', '1', '-W', '3', 'visitor']);
    assert.equal(byVisitor.code, 0, byVisitor.stdout + byVisitor.stderr);

    // network disconnect: eth1 goes, the name with it.
    assert.equal((await d.cli(['network', 'disconnect', 'app', 'outsider'])).code, 0);
    const after = await d.cli(['exec', 'outsider', 'ls', '/sys/class/net']);
    assert.deepEqual(after.stdout.split(/\s+/).filter(Boolean).sort(), ['eth0', 'lo']);
    const again = await d.cli(['network', 'disconnect', 'app', 'outsider']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /is not connected to network app/);

    // A stopped container can be connected too: it gets the network's interface when it starts.
    assert.equal((await d.cli(['create', '--name', 'later', '--network', 'other', 'busybox', 'sh', '-c', 'ls /sys/class/net; timeout 5 wget -qO- http://web/'])).code, 0);
    assert.equal((await d.cli(['network', 'connect', 'app', 'later'])).code, 0);
    const later = await d.cli(['start', '-a', 'later']);
    assert.match(later.stdout, /^eth0\neth1\nlo\nhello-app$/m, later.stdout + later.stderr);
    assert.equal((await d.cli(['rm', '-f', 'web', 'outsider', 'later'])).code, 0);
    await networkRm(d, 'app', 'other');
  });

  it('--network none has lo only; host shares the host\'s; container:NAME shares another\'s; --add-host and --dns land in the files', async () => {
    const none = await d.cli(['run', '--rm', '--network', 'none', 'busybox', 'ls', '/sys/class/net']);
    assert.equal(none.stdout, 'lo\n', none.stderr);
    const host = await d.cli(['run', '--rm', '--network', 'host', 'busybox', 'readlink', '/proc/self/ns/net']);
    assert.equal(host.stdout.trim(), (await runCommand('readlink', ['/proc/self/ns/net'])).stdout.trim(), host.stderr);
    assert.equal((await d.cli(['run', '-d', '--name', 'first', 'busybox', 'sleep', '600'])).code, 0);
    const firstIp = (await inspect(d, 'first')).NetworkSettings.IPAddress;
    const shared = await d.cli(['run', '--rm', '--network', 'container:first', 'busybox', 'ip', '-4', '-o', 'addr', 'show', 'eth0']);
    assert.match(shared.stdout, new RegExp(`inet ${firstIp.replace(/\./g, '\\.')}/`), shared.stderr);
    const conflict = await d.cli(['run', '--rm', '--network', 'container:first', '-p', '80', 'busybox', 'true']);
    assert.equal(conflict.code, 125);
    assert.match(conflict.stderr, /conflicting options: port publishing and the container type network mode/);
    const files = await d.cli(['run', '--rm', '--hostname', 'box', '--add-host', 'db.local:10.9.8.7', '--add-host', 'gw:host-gateway', '--dns', '10.0.0.53', '--dns-search', 'example.test',
      'busybox', 'sh', '-c', 'cat /etc/hosts /etc/resolv.conf /etc/hostname']);
    assert.equal(files.code, 0, files.stderr);
    assert.match(files.stdout, /^10\.9\.8\.7\tdb\.local$/m);
    assert.match(files.stdout, new RegExp(`^${(await inspect(d, 'first')).NetworkSettings.Gateway.replace(/\./g, '\\.')}\\tgw$`, 'm'));
    assert.match(files.stdout, /^nameserver 10\.0\.0\.53$/m);
    assert.match(files.stdout, /^search example\.test$/m);
    assert.match(files.stdout, /^box$/m);
    assert.equal((await d.cli(['rm', '-f', 'first'])).code, 0);
  });

  it('40 containers started and removed in parallel on two networks: no address given twice, nothing left', async () => {
    await networkCreate(d, 'par-a');
    await networkCreate(d, 'par-b');
    const names = Array.from({ length: 40 }, (_, i) => `par-${i}`);
    const runs = await Promise.all(names.map((name, i) => d.cli(['run', '-d', '--name', name, '--network', i % 2 === 0 ? 'par-a' : 'par-b', 'busybox', 'sleep', '600'], { timeoutMs: 180_000 })));
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    const ids = runs.map((r) => r.stdout.trim());
    const seen = new Map<string, string>();
    for (const [i, name] of names.entries()) {
      const net = i % 2 === 0 ? 'par-a' : 'par-b';
      const ip = (await inspect(d, name)).NetworkSettings.Networks[net]!.IPAddress;
      assert.ok(ip, `${name} has an address`);
      const key = `${net}/${ip}`;
      assert.equal(seen.get(key), undefined, `${key} given to ${seen.get(key)} and ${name}`);
      seen.set(key, name);
    }
    const removed = await Promise.all(names.map((name) => d.cli(['rm', '-f', name], { timeoutMs: 180_000 })));
    for (const r of removed) assert.equal(r.code, 0, r.stderr);
    for (const id of ids) assert.deepEqual(vethsOf(id), [], `no veth of ${id.slice(0, 12)}`);
    for (const net of ['par-a', 'par-b']) {
      const r = await d.cli(['network', 'inspect', net]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual((JSON.parse(r.stdout) as { Containers: Record<string, unknown> }[])[0]!.Containers, {}, `${net} has no endpoint left`);
    }
    await networkRm(d, 'par-a', 'par-b');
  });

  it('the docker client: run -p, port, inspect NetworkSettings, network connect', async (t) => {
    await dockerPart(t, async () => {
      const port = await freePort();
      const run = await d.docker(['run', '-d', '--name', 'dk-web', '-p', `127.0.0.1:${port}:80`, ...httpd('hello-docker')]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(await until('the page', async () => (await curl(`http://127.0.0.1:${port}/`)) ?? undefined), 'hello-docker\n');
      assert.equal((await d.docker(['port', 'dk-web', '80'])).stdout.trim(), `127.0.0.1:${port}`);
      const ip = (await d.docker(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'dk-web'])).stdout.trim();
      assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
      assert.equal((await d.docker(['network', 'create', 'dk-net'])).code, 0);
      const connect = await d.docker(['network', 'connect', '--alias', 'site', 'dk-net', 'dk-web']);
      assert.equal(connect.code, 0, connect.stderr);
      const fetched = await d.docker(['run', '--rm', '--network', 'dk-net', 'busybox', 'timeout', '3', 'wget', '-qO-', 'http://site/']);
      assert.equal(fetched.stdout, 'hello-docker\n', fetched.stderr);
      const networks = (await d.docker(['inspect', '-f', '{{json .NetworkSettings.Networks}}', 'dk-web'])).stdout;
      assert.ok('bridge' in JSON.parse(networks) && 'dk-net' in JSON.parse(networks), networks);
      assert.equal((await d.docker(['rm', '-f', 'dk-web'])).code, 0);
      assert.equal((await d.docker(['network', 'rm', 'dk-net'])).code, 0);
    });
  });
});

describe('e2e: published ports survive a daemon killed -9', () => {
  const d = new TestDaemon('netcrash');
  before(async () => { await d.start(); });
  after(async () => { await d.cleanup(); });

  it('after the restart the ports still answer and inspect is unchanged', async () => {
    const port = await freePort();
    assert.equal((await d.cli(['run', '-d', '--name', 'kept', '-p', `${port}:80`, ...httpd('still-here')])).code, 0);
    await networkCreate(d, 'keep-net');
    assert.equal((await d.cli(['run', '-d', '--name', 'kept2', '--network', 'keep-net', '-p', '80', ...httpd('still-here-2')])).code, 0);
    const randomPort = Number(/0\.0\.0\.0:(\d+)/.exec((await d.cli(['port', 'kept2', '80'])).stdout)?.[1]);
    assert.equal(await until('the page', async () => (await curl(`http://127.0.0.1:${port}/`)) ?? undefined), 'still-here\n');
    assert.equal(await until('the second page', async () => (await curl(`http://127.0.0.1:${randomPort}/`)) ?? undefined), 'still-here-2\n');
    const before = [(await inspect(d, 'kept')).NetworkSettings, (await inspect(d, 'kept2')).NetworkSettings];
    await d.kill9();
    assert.equal(await curl(`http://127.0.0.1:${port}/`), 'still-here\n', 'the kernel rules serve without a daemon');
    await d.start();
    assert.equal(await curl(`http://127.0.0.1:${port}/`), 'still-here\n');
    assert.equal(await curl(`http://127.0.0.1:${randomPort}/`), 'still-here-2\n');
    const after = [(await inspect(d, 'kept')).NetworkSettings, (await inspect(d, 'kept2')).NetworkSettings];
    assert.deepEqual(after, before);
    // Names still resolve on the user network (the resolver came back with the daemon).
    const byName = await d.cli(['run', '--rm', '--network', 'keep-net', 'busybox', 'timeout', '3', 'wget', '-qO-', 'http://kept2/']);
    assert.equal(byName.stdout, 'still-here-2\n', byName.stderr);
    assert.equal((await d.cli(['rm', '-f', 'kept', 'kept2'])).code, 0);
    assert.equal(await curl(`http://127.0.0.1:${port}/`, 1), null);
  });
});
