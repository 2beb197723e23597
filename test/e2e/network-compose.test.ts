// End-to-end: Debian's docker-compose (1.29: /version unversioned, then the API under /v1.41) against
// a real daemon. A two-service project on the network compose makes for it: the client reaches the
// server by its service name through the embedded resolver, `up --abort-on-container-exit
// --exit-code-from client` ends with the client's own exit code, and `down` leaves no container,
// no network, no bridge, no veth and no published rule behind.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TestDaemon, runCommand, type RunResult } from './harness.js';

const COMPOSE_MISSING: string | false =
  spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0 ? false : "docker-compose is not installed (Debian's docker-compose package; scripts/debian-packages.sh)";

/** The client prints the server's page and exits 7, so the exit code that comes back is the client's own. */
const PROJECT = `version: "3"
services:
  server:
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo hello-from-server > /www/index.html && exec httpd -f -p 80 -h /www"]
  client:
    image: busybox
    depends_on: [server]
    command: ["sh", "-c", "for i in $$(seq 1 50); do if wget -qO- http://server/; then exit 7; fi; sleep 0.2; done; echo server never answered; exit 9"]
`;

/** The host ends of veth pairs whose alias names one of these containers. */
function vethsOf(containerIds: readonly string[]): string[] {
  return readdirSync('/sys/class/net').filter((link) => {
    if (!link.startsWith('mdv')) return false;
    try {
      const alias = readFileSync(`/sys/class/net/${link}/ifalias`, 'utf8');
      return containerIds.some((id) => alias.includes(id));
    } catch {
      return false;
    }
  });
}

describe('e2e: docker-compose on the daemon', { skip: COMPOSE_MISSING }, () => {
  const d = new TestDaemon('network-compose');
  let dir = '';
  /** docker-compose on the project's file, against this daemon. */
  const compose = (args: readonly string[]): Promise<RunResult> => runCommand(
    'docker-compose', ['-f', join(dir, 'docker-compose.yml'), '--project-directory', dir, '-p', 'mncompose', ...args],
    { env: { ...d.env, DOCKER_HOST: `unix://${d.socketPath}`, COMPOSE_INTERACTIVE_NO_CLI: '1' }, timeoutMs: 180_000 },
  );

  before(async () => {
    await d.start();
    dir = join(d.root, 'project');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'docker-compose.yml'), PROJECT);
  });

  after(async () => {
    await d.cleanup();
  });

  it('up: the client reaches the server by service name and its exit code comes back; down leaves nothing', async () => {
    const up = await compose(['up', '--abort-on-container-exit', '--exit-code-from', 'client']);
    assert.equal(up.code, 7, `the client's exit code: ${up.stdout}\n${up.stderr}`);
    assert.match(up.stdout, /client_1\s+\|.*hello-from-server/, `the client printed the server's page:\n${up.stdout}`);

    const project = await d.cli(['ps', '-aq', '--no-trunc', '--filter', 'label=com.docker.compose.project=mncompose']);
    const ids = project.stdout.trim().split('\n').filter((l) => l !== '');
    assert.equal(ids.length, 2, 'the server and the client');
    const inspect = await d.cli(['network', 'inspect', 'mncompose_default']);
    assert.equal(inspect.code, 0, inspect.stderr);
    const [network] = JSON.parse(inspect.stdout) as { Id: string; Labels: Record<string, string> }[];
    assert.equal(network!.Labels['com.docker.compose.project'], 'mncompose');

    const down = await compose(['down']);
    assert.equal(down.code, 0, down.stderr);
    assert.equal((await d.cli(['ps', '-aq'])).stdout, '', 'no container left');
    assert.equal((await d.cli(['network', 'ls', '-q', '--filter', 'type=custom'])).stdout, '', 'no network left but the default bridge');
    assert.equal(existsSync(`/sys/class/net/mdbr-${network!.Id.slice(0, 8)}`), false, "the project network's bridge is gone");
    assert.deepEqual(vethsOf(ids), [], 'no veth of its containers is left');
    const table = await runCommand('nft', ['list', 'table', 'ip', d.networkTable]);
    for (const id of [...ids, network!.Id]) assert.equal(table.stdout.includes(id.slice(0, 12)), false, `nothing of ${id.slice(0, 12)} in the nft table`);
  });
});
