// Integration (root, the kernel): the embedded resolver of a user network, on its gateway address.
// From inside a namespace (busybox nslookup) and over UDP and TCP from the host, it answers
// container names, aliases and short ids from the fold, forwards other names to the upstream (a
// server of the test's own on 127.0.0.1, so nothing leaves the machine), and stops with the network.
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  RCODE_NOERROR, RCODE_SERVFAIL, TYPE_A, TYPE_AAAA, aRecordAddress, aRecordData, decodeMessage, encodeQuery, encodeResponse, rcodeOf,
  type DnsMessage,
} from '../../plugins/network-bridge/dns/dns-codec.js';
import { makeNetns, type TestNetns } from '../fixtures/netns.js';
import { NetworkHarness, silentLogger } from './network-helpers.js';

const isRoot = process.getuid?.() === 0;

async function askUdp(server: string, port: number, name: string, type = TYPE_A): Promise<DnsMessage> {
  const socket = createSocket('udp4');
  try {
    return await new Promise<DnsMessage>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer from ${server}:${port} for ${name}`)), 10_000);
      socket.on('message', (m) => {
        clearTimeout(timer);
        resolve(decodeMessage(m));
      });
      socket.send(encodeQuery(4242, name, type), port, server);
    });
  } finally {
    socket.close();
  }
}

async function askTcp(server: string, port: number, name: string): Promise<DnsMessage> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, server);
    const q = encodeQuery(77, name, TYPE_A);
    const prefix = Buffer.alloc(2);
    prefix.writeUInt16BE(q.length, 0);
    let got = Buffer.alloc(0);
    socket.on('connect', () => socket.write(Buffer.concat([prefix, q])));
    socket.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) {
        socket.destroy();
        resolve(decodeMessage(got.subarray(2)));
      }
    });
    socket.on('error', reject);
  });
}

const addresses = (m: DnsMessage): string[] => m.answers.filter((a) => a.type === TYPE_A).map((a) => aRecordAddress(a.data)).sort();

describe('network-bridge embedded resolver', { skip: isRoot ? false : 'needs root' }, () => {
  let upstream: UdpSocket;
  let h: NetworkHarness;
  const spaces: TestNetns[] = [];

  before(async () => {
    // the upstream: answers every A question with 10.231.99.99
    upstream = createSocket('udp4');
    upstream.on('message', (m, r) => {
      const q = decodeMessage(m);
      upstream.send(encodeResponse(q, [{ type: TYPE_A, ttl: 5, data: aRecordData('10.231.99.99') }], RCODE_NOERROR), r.port, r.address);
    });
    await new Promise<void>((resolve) => upstream.bind(0, '127.0.0.1', resolve));
    h = new NetworkHarness({ upstreamDns: [`127.0.0.1:${upstream.address().port}`] });
    await h.driver.init({ dataRoot: '/x', execRoot: '/x', stateDir: '/x', runDir: '/x', logger: silentLogger });
  });
  after(async () => {
    for (const n of spaces) await n.dispose();
    for (const network of Object.values(h.state().networks)) {
      for (const id of Object.keys(network.endpoints)) await h.disconnect(network, id);
      await h.removeNetwork(network);
    }
    await h.driver.close();
    upstream.close();
  });

  it('answers names, aliases and short ids of the network and forwards the rest to the upstream', async () => {
    const net = await h.createNetwork('app', { subnet: '10.231.3.0/24' });
    const [a, b] = [await makeNetns('dns-a'), await makeNetns('dns-b')];
    spaces.push(a, b);
    const web = await h.connect(net, a, { name: 'web', aliases: ['www', 'frontend'] });
    await h.connect(net, b, { name: 'client' });

    const inside = await b.run(['busybox', 'nslookup', 'web', '10.231.3.1']);
    assert.match(inside, new RegExp(`Address:\\s+${web.ip.replace(/\./g, '\\.')}`));
    const byAlias = await b.run(['busybox', 'nslookup', 'frontend', '10.231.3.1']);
    assert.match(byAlias, new RegExp(web.ip.replace(/\./g, '\\.')));

    assert.deepEqual(addresses(await askUdp('10.231.3.1', 53, 'WWW.')), [web.ip], 'names are case-insensitive');
    assert.deepEqual(addresses(await askUdp('10.231.3.1', 53, web.id.slice(0, 12))), [web.ip]);
    assert.deepEqual(addresses(await askTcp('10.231.3.1', 53, 'web')), [web.ip]);
    const aaaa = await askUdp('10.231.3.1', 53, 'web', TYPE_AAAA);
    assert.equal(rcodeOf(aaaa), RCODE_NOERROR);
    assert.deepEqual(aaaa.answers, []);
    const forwarded = await askUdp('10.231.3.1', 53, 'elsewhere.example');
    assert.deepEqual(addresses(forwarded), ['10.231.99.99']);
    assert.equal(forwarded.id, 4242);
  });

  it('a network without dns has no resolver; removing a network stops its resolver', async () => {
    const plain = await h.createNetwork('bridge', { subnet: '10.231.11.0/24', dns: false });
    assert.equal((await h.driver.list()).dnsListeners.some((l) => l.network === plain.id), false);
    const net = Object.values(h.state().networks).find((n) => n.name === 'app')!;
    for (const id of Object.keys(net.endpoints)) await h.disconnect(net, id);
    await h.removeNetwork(net);
    assert.equal((await h.driver.list()).dnsListeners.some((l) => l.network === net.id), false);
  });

  it('answers SERVFAIL when no upstream answers', async () => {
    const lonely = new NetworkHarness({ upstreamDns: ['127.0.0.1:9'], dnsPort: 53 });
    await lonely.driver.init({ dataRoot: '/x', execRoot: '/x', stateDir: '/x', runDir: '/x', logger: silentLogger });
    const net = await lonely.createNetwork('lonely', { subnet: '10.231.12.0/24' });
    try {
      assert.equal(rcodeOf(await askUdp('10.231.12.1', 53, 'unknown.example')), RCODE_SERVFAIL);
    } finally {
      await lonely.removeNetwork(net);
      await lonely.driver.close();
    }
  });
});
