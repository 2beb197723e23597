// Unit: the bridge driver's nft scripts (its own table only, per-network chains and map elements,
// removal that succeeds for what is not there) and the reader of `nft -j list table`; the plugin
// package loads through the daemon's loader.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Container } from 'inversify';
import { loadDrivers } from '../../core/plugins/plugin-loader.js';
import {
  baseScript, networkAddScript, networkRemoveScript, portsAddScript, portsDeleteScript, readHeldTable,
} from '../../plugins/network-bridge/nft-rules.js';
import { bridgeNameFor, parseVethAlias, vethAlias, vethNameFor } from '../../plugins/network-bridge/network-names.js';

const NET = '3f2a9c01' + 'a'.repeat(56);
const C = '9c1e3f2' + 'b'.repeat(57);
const network = { id: NET, bridge: bridgeNameFor(NET), subnet: '172.18.0.0/16', gateway: '172.18.0.1', mtu: 1500, internal: false, dns: true };

describe('nft scripts', () => {
  it('every line names the driver\'s table and no other', () => {
    const all = [
      ...baseScript('mini-docker'), ...networkAddScript('mini-docker', network), ...networkRemoveScript('mini-docker', network),
      ...portsAddScript('mini-docker', C, '172.18.0.2', [{ containerPort: 80, protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 8080 }]),
    ];
    for (const line of all) assert.match(line, / ip mini-docker( |$)/, line);
  });

  it('a network: its chains, isolation from other bridges, masquerade unless internal', () => {
    const open = networkAddScript('t', network).join('\n');
    assert.match(open, /add element ip t masq_nets \{ 172\.18\.0\.0\/16 : jump masq-3f2a9c01aaaa \}/);
    assert.match(open, /add rule ip t in-3f2a9c01aaaa oifname @bridges drop/);
    assert.match(open, /add rule ip t masq-3f2a9c01aaaa oifname != "mdbr-3f2a9c01" masquerade/);
    const closed = networkAddScript('t', { ...network, internal: true }).join('\n');
    assert.doesNotMatch(closed, /masq/);
    assert.match(closed, /add rule ip t in-3f2a9c01aaaa drop/);
  });

  it('removal adds each element before deleting it, so it succeeds when nothing is there', () => {
    const lines = networkRemoveScript('t', network);
    for (const [i, line] of lines.entries()) {
      const del = /^delete element ip t (\S+) \{ (\S+) \}$/.exec(line);
      if (del) assert.match(lines[i - 1]!, new RegExp(`^add element ip t ${del[1]} \\{ ${del[2]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    }
  });

  it('ports: any address in the _any map, one address in the _ip map, the container id as comment', () => {
    const lines = portsAddScript('t', C, '172.18.0.2', [
      { containerPort: 80, protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 8080 },
      { containerPort: 53, protocol: 'udp', hostIp: '127.0.0.1', hostPort: 5353 },
    ]);
    assert.deepEqual(lines, [
      `add element ip t tcp_any { 8080 comment "${C}" : 172.18.0.2 . 80 }`,
      `add element ip t udp_ip { 127.0.0.1 . 5353 comment "${C}" : 172.18.0.2 . 53 }`,
    ]);
    assert.deepEqual(portsDeleteScript('t', [{ containerPort: 80, protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 8080 }]), ['delete element ip t tcp_any { 8080 }']);
  });

  it('refuses names that would break the script', () => {
    assert.throws(() => networkAddScript('t', { ...network, bridge: 'x"; flush ruleset' }), /refusing/);
  });

  it('reads ports and networks back from nft -j', () => {
    const listing = {
      nftables: [
        { metainfo: { version: '1.0.6' } },
        { chain: { family: 'ip', table: 't', name: 'in-3f2a9c01aaaa' } },
        { chain: { family: 'ip', table: 't', name: 'prerouting' } },
        { map: { name: 'tcp_any', elem: [[{ elem: { val: 8080, comment: C } }, { concat: ['172.18.0.2', 80] }]] } },
        { map: { name: 'udp_ip', elem: [[{ elem: { val: { concat: ['127.0.0.1', 5353] }, comment: C } }, { concat: ['172.18.0.2', 53] }]] } },
        { map: { name: 'fwd_in', elem: [['mdbr-3f2a9c01', { jump: { target: 'in-3f2a9c01aaaa' } }]] } },
      ],
    };
    assert.deepEqual(readHeldTable(listing), {
      networkTags: ['3f2a9c01aaaa'],
      ports: [
        { containerId: C, containerIp: '172.18.0.2', port: { containerPort: 80, protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 8080 } },
        { containerId: C, containerIp: '172.18.0.2', port: { containerPort: 53, protocol: 'udp', hostIp: '127.0.0.1', hostPort: 5353 } },
      ],
    });
    assert.deepEqual(readHeldTable(null), { ports: [], networkTags: [] });
  });

  it('device names fit in 15 characters and say whose they are', () => {
    assert.equal(bridgeNameFor(NET), 'mdbr-3f2a9c01');
    assert.equal(vethNameFor(C, NET), 'mdv9c1e3f23f2a');
    assert.ok(vethNameFor(C, NET).length <= 15);
    assert.deepEqual(parseVethAlias(vethAlias(C, NET)), { containerId: C, network: NET });
    assert.equal(parseVethAlias('something else'), null);
  });
});

describe('the network-bridge package', () => {
  it('loads through the daemon\'s plugin loader, binding network.v1.bridge', async () => {
    const modulePath = fileURLToPath(new URL('../../plugins/network-bridge/network-bridge-module.js', import.meta.url));
    const { drivers, failures } = await loadDrivers([{ name: '@tiny-docker/network-bridge', root: '.', modulePath, source: 'builtin' }], new Container());
    assert.deepEqual(failures, []);
    assert.deepEqual(drivers.map((d) => d.driver.id), ['network.v1.bridge']);
  });

  it('names its module in package.json', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../../plugins/network-bridge/package.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    assert.equal(pkg.name, '@tiny-docker/network-bridge');
    assert.deepEqual(pkg.tinyDocker, { module: './network-bridge-module.js' });
  });
});
