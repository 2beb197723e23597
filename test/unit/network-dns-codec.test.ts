// Unit: the DNS wire codec and the resolver's answers without sockets: names of the network
// answered (A; AAAA empty), compression pointers followed and loops refused, FORMERR for garbage,
// SERVFAIL when there is nowhere to forward.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DnsFormatError, RCODE_FORMERR, RCODE_NOERROR, RCODE_SERVFAIL, TYPE_A, TYPE_AAAA, aRecordAddress, aRecordData, decodeMessage,
  encodeQuery, encodeResponse, isResponse, rcodeOf,
} from '../../plugins/network-bridge/dns/dns-codec.js';
import { EmbeddedResolver, parseUpstream } from '../../plugins/network-bridge/dns/dns-server.js';

describe('DNS codec', () => {
  it('round-trips a query and an answer pointing at the question name', () => {
    const q = decodeMessage(encodeQuery(0x1234, 'web.example.', TYPE_A));
    assert.deepEqual(q.questions, [{ name: 'web.example', type: TYPE_A, class: 1 }]);
    assert.equal(q.id, 0x1234);
    assert.equal(isResponse(q), false);
    const reply = encodeResponse(q, [{ type: TYPE_A, ttl: 600, data: aRecordData('10.1.0.2') }, { type: TYPE_A, ttl: 600, data: aRecordData('10.1.0.3') }], RCODE_NOERROR);
    const r = decodeMessage(reply);
    assert.equal(isResponse(r), true);
    assert.equal(rcodeOf(r), RCODE_NOERROR);
    assert.equal(r.id, 0x1234);
    assert.deepEqual(r.answers.map((a) => [a.name, a.ttl, aRecordAddress(a.data)]), [['web.example', 600, '10.1.0.2'], ['web.example', 600, '10.1.0.3']]);
    assert.equal(reply.readUInt16BE(2) & 0x0100, 0x0100, 'recursion desired is echoed');
  });

  it('refuses truncated messages, pointer loops and labels over 63 bytes', () => {
    assert.throws(() => decodeMessage(Buffer.alloc(5)), DnsFormatError);
    const loop = Buffer.concat([encodeQuery(1, 'a', TYPE_A).subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
    assert.throws(() => decodeMessage(loop), /compression pointers loop/);
    assert.throws(() => encodeQuery(1, `${'x'.repeat(64)}.example`, TYPE_A), /longer than 63/);
    const cut = encodeQuery(1, 'web', TYPE_A).subarray(0, 16);
    assert.throws(() => decodeMessage(cut), DnsFormatError);
  });
});

describe('embedded resolver answers', () => {
  const resolver = new EmbeddedResolver({
    address: '127.0.0.1', port: 0, upstreams: [],
    lookup: (name) => (name.toLowerCase() === 'web' ? ['10.1.0.2'] : []),
  });

  it('A for a name of the network, AAAA empty with NOERROR', async () => {
    const a = decodeMessage((await resolver.answer(encodeQuery(7, 'web', TYPE_A)))!);
    assert.equal(rcodeOf(a), RCODE_NOERROR);
    assert.deepEqual(a.answers.map((x) => aRecordAddress(x.data)), ['10.1.0.2']);
    assert.equal(a.flags & 0x0400, 0x0400, 'authoritative');
    const aaaa = decodeMessage((await resolver.answer(encodeQuery(8, 'web', TYPE_AAAA)))!);
    assert.equal(rcodeOf(aaaa), RCODE_NOERROR);
    assert.deepEqual(aaaa.answers, []);
  });

  it('SERVFAIL for another name with no upstream; FORMERR for garbage with a header; nothing for less', async () => {
    assert.equal(rcodeOf(decodeMessage((await resolver.answer(encodeQuery(9, 'other.example', TYPE_A)))!)), RCODE_SERVFAIL);
    const garbage = Buffer.concat([encodeQuery(10, 'x', TYPE_A).subarray(0, 12), Buffer.from([70])]);
    assert.equal(rcodeOf(decodeMessage((await resolver.answer(garbage))!)), RCODE_FORMERR);
    assert.equal(await resolver.answer(Buffer.from([1, 2])), null);
  });

  it('upstreams are IPv4 with an optional port', () => {
    assert.deepEqual(parseUpstream('127.0.0.1'), { host: '127.0.0.1', port: 53 });
    assert.deepEqual(parseUpstream('10.0.0.2:5353'), { host: '10.0.0.2', port: 5353 });
    assert.throws(() => parseUpstream('dns.example'), /invalid DNS server "dns.example"/);
  });
});
