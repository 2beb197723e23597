import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseDaemonOptions } from '../../core/daemon/daemon-options.js';
import { formatEndpoint, parseEndpoint } from '../../core/daemon/endpoint.js';
import { clientTls } from '../../cli/lib/connection.js';
import { resolveClientPaths } from '../../cli/lib/paths.js';

describe('unit: the remote API\'s hosts and TLS options', () => {
  const dir = mkdtempSync(join(process.env.TINY_DOCKER_TEST_SCRATCH ?? tmpdir(), 'remote-api-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, f), `${f}\n`);

  it('reads -H as Docker does: unix paths, tcp with the transport\'s default port, IPv6, every address', () => {
    assert.deepEqual(parseEndpoint('unix:///run/x.sock'), { kind: 'unix', path: '/run/x.sock' });
    assert.deepEqual(parseEndpoint('/run/x.sock'), { kind: 'unix', path: '/run/x.sock' });
    assert.deepEqual(parseEndpoint('tcp://127.0.0.1:1234'), { kind: 'tcp', host: '127.0.0.1', port: 1234 });
    assert.deepEqual(parseEndpoint('tcp://127.0.0.1'), { kind: 'tcp', host: '127.0.0.1', port: 2376 });
    assert.deepEqual(parseEndpoint('tcp://127.0.0.1', false), { kind: 'tcp', host: '127.0.0.1', port: 2375 });
    assert.deepEqual(parseEndpoint('tcp://:2376'), { kind: 'tcp', host: '0.0.0.0', port: 2376 });
    assert.deepEqual(parseEndpoint('tcp://[::1]:99'), { kind: 'tcp', host: '::1', port: 99 });
    assert.equal(formatEndpoint({ kind: 'tcp', host: '::1', port: 99 }), 'tcp://[::1]:99');
    assert.throws(() => parseEndpoint('unix://relative'), /absolute path/);
    assert.throws(() => parseEndpoint('tcp://127.0.0.1:70000'), /port must be 1-65535/);
    assert.throws(() => parseEndpoint('ssh://host'), /unsupported host ssh:\/\/host: use unix:\/\/\/path or tcp:\/\/IP:PORT/);
  });

  it('the daemon refuses tcp:// without TLS unless told it is unsafe, and always keeps its unix socket', () => {
    const env = { MINI_DOCKER_EXEC_ROOT: '/run/x' };
    assert.throws(() => parseDaemonOptions(['-H', 'tcp://127.0.0.1:2375'], env, dir), /^Error: refusing to serve tcp:\/\/127\.0\.0\.1:2375 without TLS: anyone who reaches it would be root here; give --tlsverify/);
    const unsafe = parseDaemonOptions(['-H', 'tcp://127.0.0.1:2375', '--unsafe-no-tls'], env, dir);
    assert.deepEqual(unsafe.tcp, [{ host: '127.0.0.1', port: 2375, tls: null }]);
    assert.equal(unsafe.socketPath, '/run/x/mini-docker.sock');
    assert.throws(() => parseDaemonOptions(['--tlsverify', '--unsafe-no-tls', '-H', 'tcp://127.0.0.1'], env, dir), /contradicts/);
    const verify = parseDaemonOptions(['-H', 'unix:///tmp/a.sock', '-H', 'tcp://127.0.0.1', '--tlsverify', '--tlscacert', '/c/ca.pem', '-G', 'docker'], { DOCKER_CERT_PATH: '/certs' }, dir);
    assert.equal(verify.socketPath, '/tmp/a.sock');
    assert.equal(verify.socketGroup, 'docker');
    assert.deepEqual(verify.tcp, [{ host: '127.0.0.1', port: 2376, tls: { files: { ca: '/c/ca.pem', cert: '/certs/cert.pem', key: '/certs/key.pem' }, verifyClients: true } }]);
    assert.equal(parseDaemonOptions(['-H', 'tcp://127.0.0.1:9', '--tls'], {}, dir).tcp[0]!.tls!.verifyClients, false);
    assert.throws(() => parseDaemonOptions(['-H', 'unix:///a', '-H', 'unix:///b'], {}, dir), /one unix socket at most/);
  });

  it('the CLI takes TLS from the docker CLI\'s flags and variables', () => {
    assert.equal(clientTls({}, {}, dir), null);
    const viaEnv = clientTls({}, { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir }, '/nowhere');
    assert.equal(viaEnv?.verify, true);
    assert.equal(viaEnv?.ca?.toString(), 'ca.pem\n');
    assert.equal(viaEnv?.cert?.toString(), 'cert.pem\n');
    const plain = clientTls({ tls: true, tlscacert: '/none/ca.pem' }, { DOCKER_CERT_PATH: join(dir, 'empty') }, '/nowhere');
    assert.deepEqual(plain, { verify: false }, 'with --tls alone no CA is needed and a missing client cert is fine');
    assert.throws(() => clientTls({ tlsverify: true, tlscacert: join(dir, 'missing.pem') }, { DOCKER_CERT_PATH: dir }, '/nowhere'), /^CliError: cannot read --tlscacert .*missing\.pem: ENOENT$/);
  });

  it('the CLI picks -H, then MINI_DOCKER_HOST, then a tcp:// DOCKER_HOST (never a unix one: that is Docker\'s socket), then its own socket', () => {
    const base = { MINI_DOCKER_EXEC_ROOT: '/run/m' };
    assert.deepEqual(resolveClientPaths(undefined, base).connection, { kind: 'unix', path: '/run/m/mini-docker.sock' });
    assert.deepEqual(resolveClientPaths(undefined, { ...base, DOCKER_HOST: 'unix:///var/run/docker.sock' }).connection, { kind: 'unix', path: '/run/m/mini-docker.sock' });
    assert.deepEqual(resolveClientPaths(undefined, { ...base, DOCKER_HOST: 'tcp://127.0.0.1:2375' }).connection, { kind: 'tcp', host: '127.0.0.1', port: 2375, tls: null });
    assert.deepEqual(resolveClientPaths(undefined, { ...base, MINI_DOCKER_HOST: 'unix:///tmp/m.sock', DOCKER_HOST: 'tcp://h:1' }).connection, { kind: 'unix', path: '/tmp/m.sock' });
    const tls = resolveClientPaths('tcp://127.0.0.1:7', { ...base, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir }).connection;
    assert.equal(tls.kind === 'tcp' && tls.tls?.verify, true);
  });
});
