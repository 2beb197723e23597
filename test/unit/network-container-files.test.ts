// Unit: /etc/hosts, /etc/hostname and /etc/resolv.conf of a container as Docker writes them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aliasProblem, containerHostname, extraHostsFrom, hostnameFile, hostsFile, hostsEntry, hostsWithEntry, hostsWithoutAddress, parseResolvConf, resolvConf } from '../../core/network/container-files.js';

const HOST = '# generated\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch corp.example\noptions edns0 trust-ad\n';

describe('container files', () => {
  it('network aliases: DNS names only (letters, digits, -, _, .; 1 to 255), never a blank, line break or control character', () => {
    for (const good of ['www', 'db-1', 'my_service', 'api.internal', 'A9', 'x'.repeat(255)]) assert.equal(aliasProblem(good), null, good);
    assert.equal(aliasProblem('x\n1.2.3.4 evil'), 'invalid network alias "x\\n1.2.3.4 evil": only ASCII letters, digits, \'-\', \'_\' and \'.\' are allowed');
    for (const bad of ['', 'two words', 'tab\there', 'cr\r', 'nul\u0000', 'bell\u0007', 'x'.repeat(256), 'caf\u00e9', 'a/b', 'a:b', '#comment']) {
      assert.match(aliasProblem(bad) ?? 'accepted', /^invalid network alias /, JSON.stringify(bad));
    }
    assert.match(aliasProblem('x'.repeat(256))!, /256 characters long, at most 255/);
  });

  it('hostsEntry refuses an alias that is no DNS name (one recorded before aliases were checked): no line injected', () => {
    assert.equal(hostsEntry('web', { ip: '172.18.0.2', aliases: ['www'] }), '172.18.0.2\tweb www');
    assert.throws(() => hostsEntry('web', { ip: '172.18.0.2', aliases: ['www\n6.6.6.6 bank.example'] }), /invalid network alias "www\\n6\.6\.6\.6 bank\.example"/);
    assert.throws(() => hostsWithEntry('127.0.0.1\tlocalhost\n', 'web', { ip: '172.18.0.2', aliases: ['a b'] }), /invalid network alias "a b"/);
  });

  it('hosts: localhost, --add-host entries, then the hostname on each address', () => {
    assert.equal(hostsFile({ hostname: 'web', addresses: [{ ip: '172.18.0.2' }], extraHosts: [{ name: 'db', ip: '10.0.0.9' }] }), [
      '127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', 'fe00::\tip6-localnet', 'ff00::\tip6-mcastprefix',
      'ff02::1\tip6-allnodes', 'ff02::2\tip6-allrouters', '10.0.0.9\tdb', '172.18.0.2\tweb', '',
    ].join('\n'));
  });

  it('hosts: each address with the hostname and that network\'s aliases, the first network first', () => {
    const text = hostsFile({ hostname: 'web', addresses: [{ ip: '172.18.0.2', aliases: ['www', 'web'] }, { ip: '172.19.0.3', aliases: [] }], extraHosts: [] });
    assert.match(text, /\n172\.18\.0\.2\tweb www\n172\.19\.0\.3\tweb\n$/);
  });

  it('hosts of a running container: a connect appends the new address\'s line once, a disconnect takes the lines of that address and name, the rest is kept', () => {
    const start = hostsFile({ hostname: 'web', addresses: [{ ip: '172.18.0.2' }], extraHosts: [] });
    const edited = `${start}10.1.1.1\tmine\n`; // the container's own line
    const connected = hostsWithEntry(edited, 'web', { ip: '172.20.0.5', aliases: ['visitor'] });
    assert.equal(connected, `${edited}172.20.0.5\tweb visitor\n`);
    assert.equal(hostsWithEntry(connected, 'web', { ip: '172.20.0.5', aliases: ['visitor'] }), connected, 'not twice');
    assert.equal(hostsWithEntry('127.0.0.1\tlocalhost', 'web', { ip: '172.20.0.5' }), '127.0.0.1\tlocalhost\n172.20.0.5\tweb\n', 'no newline at the end');
    assert.equal(hostsWithEntry('', 'web', { ip: '172.20.0.5' }), '172.20.0.5\tweb\n');
    assert.equal(hostsWithoutAddress(connected, 'web', '172.20.0.5'), edited);
    assert.equal(hostsWithoutAddress(`${edited}172.20.0.5  web  old-alias\n`, 'web', '172.20.0.5'), edited, 'whatever aliases follow');
    assert.equal(hostsWithoutAddress(`${edited}172.20.0.5\tother\n`, 'web', '172.20.0.5'), `${edited}172.20.0.5\tother\n`, 'another name is the container\'s own');
    assert.equal(hostsWithoutAddress(edited, 'web', '172.20.0.5'), edited, 'nothing to take: unchanged');
  });

  it('ExtraHosts become entries, host-gateway the gateway', () => {
    assert.deepEqual(extraHostsFrom(['db:10.0.0.9', 'gw:host-gateway', 'v6:::1'], '172.18.0.1'),
      [{ name: 'db', ip: '10.0.0.9' }, { name: 'gw', ip: '172.18.0.1' }, { name: 'v6', ip: '::1' }]);
    assert.throws(() => extraHostsFrom([':1.2.3.4'], '172.18.0.1'), /invalid ExtraHosts entry/);
  });

  it('hostname: --hostname, else the short id', () => {
    assert.equal(containerHostname('0123456789abcdef'.repeat(4)), '0123456789ab');
    assert.equal(containerHostname('0123456789abcdef'.repeat(4), 'web'), 'web');
    assert.equal(hostnameFile('web'), 'web\n');
  });

  it('resolv.conf on a user network: the embedded resolver, ndots:0, the host\'s search list', () => {
    const text = resolvConf({ host: HOST, dns: [], dnsSearch: [], dnsOptions: [], embeddedResolver: '172.18.0.1' });
    assert.match(text, /^nameserver 172\.18\.0\.1\nsearch corp\.example\noptions ndots:0 edns0 trust-ad\n/);
    assert.match(text, /# ExtServers: \[127\.0\.0\.53 10\.0\.0\.2\]/);
    assert.doesNotMatch(text, /nameserver 10\.0\.0\.2/);
  });

  it('resolv.conf on the default bridge: the host\'s servers minus loopback ones, --dns and --dns-search replace', () => {
    assert.equal(resolvConf({ host: HOST, dns: [], dnsSearch: [], dnsOptions: [], embeddedResolver: null }),
      'nameserver 10.0.0.2\nsearch corp.example\noptions edns0 trust-ad\n');
    assert.equal(resolvConf({ host: HOST, dns: ['10.9.9.9'], dnsSearch: ['a.example'], dnsOptions: ['timeout:1'], embeddedResolver: null }),
      'nameserver 10.9.9.9\nsearch a.example\noptions timeout:1\n');
    assert.equal(resolvConf({ host: 'nameserver 127.0.0.1\n', dns: [], dnsSearch: ['.'], dnsOptions: [], embeddedResolver: null }),
      'nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  });

  it('reads a host resolv.conf with comments', () => {
    assert.deepEqual(parseResolvConf(HOST), { nameservers: ['127.0.0.53', '10.0.0.2'], search: ['corp.example'], options: ['edns0', 'trust-ad'] });
  });
});
