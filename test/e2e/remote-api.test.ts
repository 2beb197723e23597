import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTestCerts, type TestCerts } from '../fixtures/test-certs.js';
import { DAEMON, DOCKER_CLIENT_MISSING, TestDaemon, runCommand } from './harness.js';

/** A TCP port on loopback nobody listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * The API on TCP with mutual TLS, as dockerd's -H tcp:// --tlsverify: the CLI and the docker
 * client reach it with the test CA's client certificate (flags, or DOCKER_HOST,
 * DOCKER_TLS_VERIFY and DOCKER_CERT_PATH), and nothing else gets in. The unix socket stays.
 */
describe('e2e: the remote API with mutual TLS', { timeout: 300_000 }, () => {
  const d = new TestDaemon('remote-api');
  let certs: TestCerts;
  let host = '';

  before(async () => {
    certs = makeTestCerts(d.root);
    const port = await freePort();
    host = `tcp://127.0.0.1:${port}`;
    d.daemonArgs = ['-H', host, '--tlsverify', '--tlscacert', certs.ca, '--tlscert', certs.serverCert, '--tlskey', certs.serverKey];
    await d.start();
  });
  after(() => d.cleanup());

  const viaEnv = (certDir: string): NodeJS.ProcessEnv => ({ MINI_DOCKER_HOST: '', DOCKER_HOST: host, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certDir });

  it('the CLI with the TLS flags: version, run (attach over TLS), ps', async () => {
    const tls = ['-H', host, '--tlsverify', '--tlscacert', certs.ca, '--tlscert', certs.clientCert, '--tlskey', certs.clientKey];
    const run = await d.cli(['run', ...tls, '--rm', 'busybox', 'sh', '-c', 'echo over-tls; exit 4']);
    assert.equal(run.code, 4, run.stderr);
    assert.equal(run.stdout, 'over-tls\n');
    const ps = await d.cli(['ps', '-a', ...tls]);
    assert.equal(ps.code, 0, ps.stderr);
    assert.match(ps.stdout, /^CONTAINER ID/);
  });

  it('the CLI with DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, the fast path included', async () => {
    const env = viaEnv(certs.clientDir);
    const id = (await d.cli(['run', '-d', 'busybox', 'sleep', '60'], { env })).stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const exec = await d.cli(['exec', id, 'echo', 'exec-over-tls'], { env });
    assert.equal(exec.stdout, 'exec-over-tls\n', exec.stderr);
    assert.match((await d.cli(['ps', '-q'], { env })).stdout, new RegExp(`^${id.slice(0, 12)}$`, 'm'));
    assert.equal((await d.cli(['rm', '-f', id], { env })).code, 0);
  });

  it('refuses a client without a certificate, with another CA\'s certificate, or that does not verify the daemon\'s', async () => {
    const none = await d.cli(['ps', '-H', host, '--tls'], { env: { DOCKER_CERT_PATH: join(d.root, 'nothing-here') } });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^Error: (cannot reach mini-dockerd at tcp:\/\/127\.0\.0\.1:\d+: ECONNRESET|TLS with mini-dockerd at tcp:\/\/127\.0\.0\.1:\d+ failed: .*)\n$/);
    const rogue = await d.cli(['ps'], { env: viaEnv(certs.rogueDir) });
    assert.equal(rogue.code, 1);
    assert.match(rogue.stderr, /^Error: .*127\.0\.0\.1.*\n$/);
    const plain = await d.cli(['ps', '-H', host.replace('tcp://', 'tcp://')], { env: { DOCKER_TLS_VERIFY: '' } });
    assert.equal(plain.code, 1, 'plain HTTP to a TLS port gets no answer');
    assert.equal(plain.stderr.split('\n').filter((l) => l !== '').length, 1, plain.stderr);
  });

  it('the unix socket still serves, mode 0660', async () => {
    assert.equal(statSync(d.socketPath).mode & 0o777, 0o660);
    assert.equal((await d.cli(['version', '--format', '{{.Server.Version}}'])).code, 0);
  });

  it('the docker client over TLS: version, run --rm with its attach, and refused without certificates', { skip: DOCKER_CLIENT_MISSING }, async () => {
    const tls = ['-H', host, '--tlsverify', '--tlscacert', certs.ca, '--tlscert', certs.clientCert, '--tlskey', certs.clientKey];
    const env = { ...d.env, DOCKER_HOST: '', DOCKER_CONFIG: join(d.root, 'docker-config') };
    const version = await runCommand('docker', [...tls, 'version', '--format', '{{.Server.APIVersion}}'], { env, timeoutMs: 30_000 });
    assert.equal(version.code, 0, version.stderr);
    assert.equal(version.stdout.trim(), '1.50');
    const run = await runCommand('docker', [...tls, 'run', '--rm', 'busybox', 'echo', 'docker-over-tls'], { env, timeoutMs: 60_000 });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'docker-over-tls\n');
    const refused = await runCommand('docker', ['-H', host, '--tls', 'version'], { env: { ...env, DOCKER_CERT_PATH: join(d.root, 'nothing-here') }, timeoutMs: 30_000 });
    assert.notEqual(refused.code, 0);
  });

  it('the daemon refuses tcp:// without TLS, in one line, and starts nothing', async () => {
    const r = await runCommand(process.execPath, [DAEMON, '-H', 'tcp://127.0.0.1:1', '--data-root', join(d.root, 'x-data'), '--exec-root', join(d.root, 'x-run')], { env: d.env, timeoutMs: 30_000 });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^mini-dockerd: refusing to serve tcp:\/\/127\.0\.0\.1:1 without TLS: anyone who reaches it would be root here/);
  });
});
