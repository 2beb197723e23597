// End-to-end: testcontainers 11 (node) against a real mini-dockerd: files and content copied into a
// container before it starts (PUT /containers/{id}/archive on a created container), then read back
// with exec, and copied out again (GET .../archive). Offline: no reaper (Ryuk cannot be pulled),
// and the image is the daemon's own busybox, which testcontainers finds and does not pull.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
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
});
