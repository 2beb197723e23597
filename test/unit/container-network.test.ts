// Unit: the pure parts of containers on networks: --network as the engine reads it, -p/-P as the
// driver's requests, the create body's networking fields (API and CLI), the presenters of ports.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { selectContainers } from '../../core/api/container-filters.js';
import { parseCreateRequest } from '../../core/api/create-request.js';
import { presentPortMap, presentPortSummaries } from '../../core/api/container-network-presenters.js';
import { networkChoice } from '../../core/engine/container-endpoints.js';
import { portRequestsOf } from '../../core/engine/container-network-attach.js';
import { EMPTY_NETWORKS } from '../../core/network/network-state.js';
import type { ContainerState } from '../../core/state/engine-state.js';
import { createBody, type CreateFlagValues } from '../../cli/lib/create-body.js';
import { CliError } from '../../cli/lib/errors.js';

const ID = 'c'.repeat(64);

function container(over: Partial<ContainerState> = {}): ContainerState {
  return {
    id: ID, name: 'web', image: { ref: 'busybox', id: `sha256:${'a'.repeat(64)}` },
    config: { Cmd: ['httpd'], Entrypoint: null, Env: [], WorkingDir: '', User: '', Hostname: 'web', Tty: false, OpenStdin: false, StdinOnce: false, AttachStdin: false, AttachStdout: false, AttachStderr: false, Labels: {} },
    hostConfig: { AutoRemove: false, LogConfig: { Type: 'json-file', Config: {} } },
    created: '2026-01-01T00:00:00Z', status: 'running', pid: 42, shimPid: 41, exitCode: 0, signal: null, oomKilled: false, error: '',
    startedAt: '2026-01-01T00:00:01Z', finishedAt: '0001-01-01T00:00:00Z', restartCount: 0, manuallyStopped: false, starting: false,
    startSteps: [], startFailure: null, stopping: null, committing: null, drivers: [], execIds: [], volumes: [], removeVolumes: false, version: 3, position: 3,
    ...over,
  };
}

describe('networkChoice: HostConfig.NetworkMode as the engine reads it', () => {
  it('gives the default bridge for "", "default" and no mode; none, host, container:NAME and networks by name', () => {
    assert.deepEqual(networkChoice({}), { kind: 'network', ref: 'bridge' });
    assert.deepEqual(networkChoice({ NetworkMode: 'default' }), { kind: 'network', ref: 'bridge' });
    assert.deepEqual(networkChoice({ NetworkMode: 'none' }), { kind: 'none' });
    assert.deepEqual(networkChoice({ NetworkMode: 'host' }), { kind: 'host' });
    assert.deepEqual(networkChoice({ NetworkMode: 'container:db' }), { kind: 'container', ref: 'db' });
    assert.deepEqual(networkChoice({ NetworkMode: 'app' }), { kind: 'network', ref: 'app' });
  });
});

describe('portRequestsOf: -p and -P as the driver\'s requests', () => {
  it('maps PortBindings, and with PublishAllPorts every other exposed port (the image\'s too) to a random host port', () => {
    const c = container({
      config: { ...container().config, ExposedPorts: { '80/tcp': {}, '53/udp': {} } },
      hostConfig: { ...container().hostConfig, PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }] }, PublishAllPorts: true },
    });
    const requests = portRequestsOf(c, { config: { Env: [], Cmd: null, Entrypoint: null, WorkingDir: '', User: '', Labels: {}, ExposedPorts: { '443': {} } } });
    assert.deepEqual(requests, [
      { containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 8080 },
      { containerPort: 443, protocol: 'tcp', hostIp: '', hostPort: 0 },
      { containerPort: 53, protocol: 'udp', hostIp: '', hostPort: 0 },
    ]);
    assert.deepEqual(portRequestsOf(container({ config: { ...container().config, ExposedPorts: { '80/tcp': {} } } }), undefined), [], 'exposed alone publishes nothing');
  });
});

describe('the create body\'s networking fields', () => {
  it('reads NetworkMode, PortBindings (null: a random port), PublishAllPorts, Dns*, ExtraHosts and EndpointsConfig', () => {
    const { request, warnings } = parseCreateRequest({
      Image: 'busybox', ExposedPorts: { '80/tcp': {} },
      HostConfig: {
        NetworkMode: 'app', PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }], '53': null }, PublishAllPorts: true,
        Dns: ['10.0.0.53'], DnsSearch: ['example.test'], DnsOptions: ['ndots:2'], ExtraHosts: ['db:10.1.2.3'],
      },
      NetworkingConfig: { EndpointsConfig: { app: { Aliases: ['www'], IPAMConfig: { IPv4Address: '172.30.0.9' } }, other: {} } },
    }, 'web');
    assert.deepEqual(warnings, []);
    assert.equal(request.hostConfig.NetworkMode, 'app');
    assert.deepEqual(request.hostConfig.PortBindings, { '80/tcp': [{ HostIp: '', HostPort: '8080' }], '53/tcp': [{ HostIp: '', HostPort: '' }] });
    assert.equal(request.hostConfig.PublishAllPorts, true);
    assert.deepEqual(request.hostConfig.Dns, ['10.0.0.53']);
    assert.deepEqual(request.hostConfig.DnsSearch, ['example.test']);
    assert.deepEqual(request.hostConfig.DnsOptions, ['ndots:2']);
    assert.deepEqual(request.hostConfig.ExtraHosts, ['db:10.1.2.3']);
    assert.deepEqual(request.endpointsConfig, { app: { Aliases: ['www'], IPv4Address: '172.30.0.9' }, other: { Aliases: [], IPv4Address: '' } });
  });

  it('refuses a port binding that is not a port, and warns that host mode discards published ports', () => {
    assert.throws(() => parseCreateRequest({ Image: 'busybox', HostConfig: { PortBindings: { 'http/tcp': [] } } }, undefined), /invalid port binding "http\/tcp"/);
    assert.throws(() => parseCreateRequest({ Image: 'busybox', HostConfig: { PortBindings: { '80/tcp': [{ HostPort: '99999' }] } } }, undefined), /invalid host port "99999"/);
    const { warnings } = parseCreateRequest({ Image: 'busybox', HostConfig: { NetworkMode: 'host', PortBindings: { '80/tcp': [{ HostPort: '80' }] } } }, undefined);
    assert.deepEqual(warnings, ['Published ports are discarded when using host network mode']);
  });

  it('the CLI sends -p, -P, --expose, --network, --network-alias, --ip, --dns*, --add-host as the docker CLI does', () => {
    const flags: CreateFlagValues = {
      interactive: false, tty: false, rm: false, publish: ['127.0.0.1:8080:80', '53/udp'], 'publish-all': true, expose: ['9000-9001'],
      network: 'app', 'network-alias': ['www'], ip: '172.30.0.9', dns: ['10.0.0.53'], 'dns-search': ['example.test'], 'dns-option': ['ndots:2'],
      'add-host': ['db=10.1.2.3'], hostname: 'box',
    };
    const body = createBody({ image: 'busybox', cmd: [], flags, detach: true, consoleSize: [0, 0], exitCode: 125, env: {}, cwd: '/' });
    assert.equal(body.HostConfig.NetworkMode, 'app');
    assert.deepEqual(body.HostConfig.PortBindings, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }], '53/udp': [{ HostIp: '', HostPort: '' }] });
    assert.equal(body.HostConfig.PublishAllPorts, true);
    assert.deepEqual(Object.keys(body.ExposedPorts ?? {}).sort(), ['53/udp', '80/tcp', '9000/tcp', '9001/tcp']);
    assert.deepEqual(body.NetworkingConfig, { EndpointsConfig: { app: { Aliases: ['www'], IPAMConfig: { IPv4Address: '172.30.0.9' } } } });
    assert.deepEqual(body.HostConfig.ExtraHosts, ['db:10.1.2.3']);
    assert.deepEqual(body.HostConfig.Dns, ['10.0.0.53']);
    assert.equal(body.Hostname, 'box');
    assert.throws(() => createBody({ image: 'busybox', cmd: [], flags: { interactive: false, tty: false, rm: false, 'network-alias': ['www'] }, detach: true, consoleSize: [0, 0], exitCode: 125, env: {}, cwd: '/' }),
      (e: unknown) => e instanceof CliError && e.exitCode === 125 && /network-scoped alias is supported only for containers in user defined networks/.test(e.message));
  });
});

describe('ports as the API shows them', () => {
  const net = { ...EMPTY_NETWORKS, published: { [ID]: { network: 'n', ports: [{ containerPort: 80, protocol: 'tcp' as const, hostIp: '0.0.0.0', hostPort: 8080 }] } } };
  it('inspect\'s Ports: bindings of published ports, null for exposed ones, nothing when not running', () => {
    const c = container({ config: { ...container().config, ExposedPorts: { '80/tcp': {}, '443/tcp': {} } } });
    assert.deepEqual(presentPortMap(c, net), { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }], '443/tcp': null });
    assert.deepEqual(presentPortMap({ ...c, status: 'exited' }, net), {});
  });
  it('the summary\'s Ports: published with IP and PublicPort, exposed with PrivatePort only', () => {
    const c = container({ config: { ...container().config, ExposedPorts: { '80/tcp': {}, '443/tcp': {} } } });
    assert.deepEqual(presentPortSummaries(c, net), [{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }, { PrivatePort: 443, Type: 'tcp' }]);
  });
});

describe('ps --filter network, publish, expose (as moby: by network name or id, by container port)', () => {
  const other = container({ id: 'd'.repeat(64), name: 'db' });
  const web = container({ config: { ...container().config, ExposedPorts: { '80/tcp': {}, '9000/udp': {} } } });
  const networkId = 'e'.repeat(64);
  const net = {
    networks: {
      [networkId]: {
        id: networkId, name: 'app', driver: 'bridge', subnet: '172.30.0.0/16', gateway: '172.30.0.1', internal: false, labels: {}, bridge: 'mdbr-eeeeeeee', mtu: 1500, dns: true,
        created: '2026-01-01T00:00:00Z', version: 2,
        endpoints: { [ID]: { containerId: ID, ip: '172.30.0.2', mac: '02:42:ac:1e:00:02', aliases: [], interface: 'eth0', held: true } },
      },
    },
    published: { [ID]: { network: networkId, ports: [{ containerPort: 80, protocol: 'tcp' as const, hostIp: '0.0.0.0', hostPort: 8080 }] } },
    predefined: {},
  };
  const select = (key: string, value: string): string[] =>
    selectContainers([web, other], {}, { all: true, filters: new Map([[key, [value]]]) }, net).map((c) => c.name);
  it('network: by name or full id', () => {
    assert.deepEqual(select('network', 'app'), ['web']);
    assert.deepEqual(select('network', networkId), ['web']);
    assert.deepEqual(select('network', 'nope'), []);
  });
  it('publish: a published container port, a range, a protocol; expose: the exposed ones', () => {
    assert.deepEqual(select('publish', '80'), ['web']);
    assert.deepEqual(select('publish', '70-90/tcp'), ['web']);
    assert.deepEqual(select('publish', '80/udp'), []);
    assert.deepEqual(select('publish', '9000/udp'), [], 'exposed, not published');
    assert.deepEqual(select('expose', '9000/udp'), ['web']);
    assert.throws(() => select('expose', 'http'), /invalid filter value "http"/);
  });
});
