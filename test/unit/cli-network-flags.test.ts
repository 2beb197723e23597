// Unit: the networking flags of run/create parsed as the docker CLI does, with its messages.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CliError } from '../../cli/lib/errors.js';
import {
  endpointConfig, networkModeField, parseAddHost, parseDns, parseDnsSearch, parseExpose, parseHostname, parseNetworkMode, parsePublish,
} from '../../cli/lib/network-flags.js';

const usage = (pattern: RegExp) => (e: unknown) => e instanceof CliError && e.exitCode === 125 && pattern.test(e.message);

describe('-p/--publish', () => {
  it('CONTAINERPORT, HOSTPORT:CONTAINERPORT, IP:HOSTPORT:CONTAINERPORT, IP::CONTAINERPORT, /udp', () => {
    assert.deepEqual(parsePublish(['80', '8080:81', '127.0.0.1:8081:82', '127.0.0.1::83', '53:53/udp']), {
      PortBindings: {
        '80/tcp': [{ HostIp: '', HostPort: '' }],
        '81/tcp': [{ HostIp: '', HostPort: '8080' }],
        '82/tcp': [{ HostIp: '127.0.0.1', HostPort: '8081' }],
        '83/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
        '53/udp': [{ HostIp: '', HostPort: '53' }],
      },
      ExposedPorts: { '80/tcp': {}, '81/tcp': {}, '82/tcp': {}, '83/tcp': {}, '53/udp': {} },
    });
  });

  it('ranges: one to one, a host range for one port, random ports for a container range; one port twice', () => {
    assert.deepEqual(parsePublish(['8000-8001:80-81']).PortBindings, { '80/tcp': [{ HostIp: '', HostPort: '8000' }], '81/tcp': [{ HostIp: '', HostPort: '8001' }] });
    assert.deepEqual(parsePublish(['9000-9010:80']).PortBindings, { '80/tcp': [{ HostIp: '', HostPort: '9000-9010' }] });
    assert.deepEqual(parsePublish(['90-91']).PortBindings, { '90/tcp': [{ HostIp: '', HostPort: '' }], '91/tcp': [{ HostIp: '', HostPort: '' }] });
    assert.deepEqual(parsePublish(['8080:80', '127.0.0.1:8081:80']).PortBindings['80/tcp'], [{ HostIp: '', HostPort: '8080' }, { HostIp: '127.0.0.1', HostPort: '8081' }]);
    assert.deepEqual(parsePublish(['[::1]:8080:80']).PortBindings['80/tcp'], [{ HostIp: '::1', HostPort: '8080' }]);
  });

  it('refuses what the docker CLI refuses, in its words', () => {
    assert.throws(() => parsePublish(['80/xyz']), usage(/^invalid argument "80\/xyz" for "-p, --publish" flag: invalid proto: xyz$/));
    assert.throws(() => parsePublish(['8080:abc']), usage(/invalid containerPort: abc/));
    assert.throws(() => parsePublish(['x:80']), usage(/invalid hostPort: x/));
    assert.throws(() => parsePublish(['8000-8002:80-81']), usage(/invalid ranges specified for container and host Ports: 80-81 and 8000-8002/));
    assert.throws(() => parsePublish(['1:2:3:4']), usage(/invalid port specification: "1:2:3:4"/));
    assert.throws(() => parsePublish(['999.1.1.1:80:80']), usage(/invalid IP address: 999\.1\.1\.1/));
    assert.throws(() => parsePublish(['8080:']), usage(/no port specified/));
    assert.throws(() => parsePublish(['70000']), usage(/invalid containerPort: 70000/));
  });

  it('--expose ranges and protocols', () => {
    assert.deepEqual(parseExpose(['80', '53/udp', '90-91']), { '80/tcp': {}, '53/udp': {}, '90/tcp': {}, '91/tcp': {} });
    assert.throws(() => parseExpose(['x']), usage(/invalid range format for --expose: x/));
  });
});

describe('--network, --network-alias, --ip', () => {
  it('modes', () => {
    assert.deepEqual(parseNetworkMode(undefined), { kind: 'default' });
    assert.deepEqual(parseNetworkMode('none'), { kind: 'none' });
    assert.deepEqual(parseNetworkMode('host'), { kind: 'host' });
    assert.deepEqual(parseNetworkMode('container:web'), { kind: 'container', container: 'web' });
    assert.deepEqual(parseNetworkMode('app'), { kind: 'network', network: 'app' });
    assert.equal(networkModeField(parseNetworkMode('container:web')), 'container:web');
    assert.equal(networkModeField(parseNetworkMode('')), 'default');
    assert.throws(() => parseNetworkMode('container:'), usage(/container: needs a container name or id/));
  });

  it('aliases and --ip only on a user network, in the daemon\'s words', () => {
    assert.deepEqual(endpointConfig(parseNetworkMode('app'), ['web'], '10.1.0.5'), { app: { Aliases: ['web'], IPAMConfig: { IPv4Address: '10.1.0.5' } } });
    assert.deepEqual(endpointConfig(parseNetworkMode('app'), [], undefined), { app: {} });
    assert.deepEqual(endpointConfig(parseNetworkMode(undefined), [], undefined), {});
    assert.throws(() => endpointConfig(parseNetworkMode('bridge'), ['x'], undefined), usage(/network-scoped alias is supported only for containers in user defined networks/));
    assert.throws(() => endpointConfig(parseNetworkMode(undefined), [], '10.1.0.5'), usage(/user specified IP address is supported on user defined networks only/));
    assert.throws(() => endpointConfig(parseNetworkMode('app'), [], '10.1.0'), usage(/invalid string being converted to IP address: 10\.1\.0/));
  });
});

describe('--dns, --dns-search, --add-host, --hostname', () => {
  it('accepts addresses and domains, refuses others', () => {
    assert.deepEqual(parseDns(['10.0.0.2', '::1']), ['10.0.0.2', '::1']);
    assert.throws(() => parseDns(['dns.example']), usage(/IP address is not correctly formatted: dns\.example/));
    assert.deepEqual(parseDnsSearch(['corp.example', '.']), ['corp.example', '.']);
    assert.throws(() => parseDnsSearch(['-bad-']), usage(/-bad- is not a valid domain/));
  });

  it('--add-host HOST:IP, HOST=IP, host-gateway', () => {
    assert.deepEqual(parseAddHost(['db:10.0.0.9', 'cache=10.0.0.8', 'gw:host-gateway', 'v6:[::1]']), ['db:10.0.0.9', 'cache:10.0.0.8', 'gw:host-gateway', 'v6:::1']);
    assert.throws(() => parseAddHost(['nocolon']), usage(/bad format for add-host: "nocolon"/));
    assert.throws(() => parseAddHost(['db:999.0.0.1']), usage(/invalid IP address in add-host: "999\.0\.0\.1"/));
  });

  it('--hostname', () => {
    assert.equal(parseHostname('web-1.local'), 'web-1.local');
    assert.throws(() => parseHostname('bad_name'), usage(/for "-h, --hostname" flag/));
    assert.throws(() => parseHostname('-x'), CliError);
  });
});
