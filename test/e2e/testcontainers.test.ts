// End-to-end: testcontainers 11 (node) against a real mini-dockerd: files and content copied into a
// container before it starts (PUT /containers/{id}/archive on a created container), then read back
// with exec, and copied out again (GET .../archive); and an image the daemon does not have, pulled
// from a registry the test starts on loopback, its port published and waited for. Offline: no
// reaper (Ryuk cannot be pulled), and nothing is pulled from outside this machine.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REGISTRY_TOOLS_MISSING, TestRegistry, skopeoPush, writeOciLayout } from '../fixtures/registry-server.js';
import { busyboxRootfsTar } from '../fixtures/test-image.js';
import { TestDaemon } from './harness.js';

describe('e2e: testcontainers against mini-dockerd', () => {
  const d = new TestDaemon('testcontainers');
  const saved = {
    DOCKER_HOST: process.env.DOCKER_HOST, TESTCONTAINERS_RYUK_DISABLED: process.env.TESTCONTAINERS_RYUK_DISABLED,
    TESTCONTAINERS_HOST_OVERRIDE: process.env.TESTCONTAINERS_HOST_OVERRIDE, HOME: process.env.HOME,
  };

  before(async () => {
    await d.start();
    // testcontainers reads these when it first builds its client, and ~/.testcontainers.properties: a home of the test's own.
    process.env.DOCKER_HOST = `unix://${d.socketPath}`;
    process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
    // Run inside a container (/.dockerenv), testcontainers asks for the "bridge" network's gateway
    // to reach published ports; the daemon has no networks yet (docs/networking.md): say the host.
    process.env.TESTCONTAINERS_HOST_OVERRIDE = 'localhost';
    process.env.HOME = join(d.root, 'home');
    await mkdir(process.env.HOME, { recursive: true });
  });
  after(async () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await d.cleanup();
  });

  it('withCopyFilesToContainer and withCopyContentToContainer, then start, exec and copy back out', async () => {
    const { GenericContainer } = await import('testcontainers');
    const source = join(d.root, 'app.conf');
    await writeFile(source, 'listen 8080\n');
    const container = await new GenericContainer('busybox:latest')
      .withCommand(['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 1; done'])
      .withCopyFilesToContainer([{ source, target: '/etc/app/app.conf', mode: 0o640 }])
      .withCopyContentToContainer([{ content: 'hello from testcontainers\n', target: '/srv/greeting.txt' }])
      .start();
    try {
      const conf = await container.exec(['cat', '/etc/app/app.conf']);
      assert.equal(conf.exitCode, 0, conf.output);
      assert.equal(conf.output, 'listen 8080\n');
      const mode = await container.exec(['stat', '-c', '%a', '/etc/app/app.conf']);
      assert.equal(mode.output.trim(), '640');
      const greeting = await container.exec(['cat', '/srv/greeting.txt']);
      assert.equal(greeting.output, 'hello from testcontainers\n');
      // And into the running container, and back out.
      await container.copyContentToContainer([{ content: 'later\n', target: '/srv/later.txt' }]);
      const archive = await container.copyArchiveFromContainer('/srv/later.txt');
      let bytes = 0;
      for await (const chunk of archive) bytes += (chunk as Buffer).length;
      assert.ok(bytes >= 1024, `a tar came back (${bytes} bytes)`);
      assert.equal((await container.exec(['cat', '/srv/later.txt'])).output, 'later\n');
    } finally {
      await container.stop({ timeout: 1 });
    }
  });

  it('pulls an image that is not here from a registry the test started, publishes its port, and waits until it listens', { skip: REGISTRY_TOOLS_MISSING }, async () => {
    const registry = await TestRegistry.start(join(d.root, 'registry'));
    try {
      const busybox = await readFile((await busyboxRootfsTar()).path);
      await writeOciLayout(join(d.root, 'layout'), [{
        platform: { os: 'linux', architecture: 'amd64' }, layers: [busybox],
        cmd: ['sh', '-c', 'mkdir -p /www && echo "served by $(hostname)" > /www/index.html && exec httpd -f -p 80 -h /www'],
      }], 'v1', false);
      const image = `${registry.host}/tools/web:v1`;
      await skopeoPush(join(d.root, 'layout'), 'v1', image);
      assert.notEqual((await d.cli(['image', 'inspect', image])).code, 0, 'the daemon does not have the image yet');
      const { GenericContainer } = await import('testcontainers');
      const container = await new GenericContainer(image).withExposedPorts(80).start();
      try {
        const port = container.getMappedPort(80);
        // Loopback only: the published port, as the test's own client would reach it.
        const page = await (await fetch(`http://127.0.0.1:${port}/`)).text();
        assert.equal(page, `served by ${container.getId().slice(0, 12)}\n`);
        const digests = await d.cli(['images', '--digests', '--format', '{{.Repository}}:{{.Tag}} {{.Digest}}', image]);
        assert.match(digests.stdout, new RegExp(`^${image.replace(/\./g, '\\.')} sha256:[0-9a-f]{64}$`, 'm'), 'pulled, with its RepoDigest');
      } finally {
        await container.stop({ timeout: 1 });
      }
    } finally {
      await registry.stop();
    }
  });
});
