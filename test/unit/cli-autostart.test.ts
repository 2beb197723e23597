// Unit: the CLI's daemon autostart and its retries against small fake daemons on unix sockets: a
// daemon that is starting (it holds the exec root's lock) is waited for, never raced; a request
// that found no daemon is sent again once one answers; a request the daemon took and never
// answered is not sent again and says so in one line.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { daemonLogPath, ensureDaemon } from '../../cli/lib/daemon-autostart.js';
import { DaemonClient } from '../../cli/lib/daemon-client.js';
import { CliError } from '../../cli/lib/errors.js';
import { DAEMON_LOCK_FILE } from '../../core/daemon/daemon-config.js';
import { LogLock, liveLockHolder } from '../../core/eventlog/log-lock.js';

function listen(server: http.Server, path: string): Promise<void> {
  return new Promise((resolve) => server.listen(path, resolve));
}

function close(server: http.Server | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!server?.listening) {
      resolve();
      return;
    }
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

describe('CLI autostart and retries', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(process.env.TINY_DOCKER_TEST_SCRATCH ?? tmpdir(), 'cli-autostart-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('waits for the socket of a daemon that holds the lock (it is starting) instead of starting another', async () => {
    const execRoot = join(dir, 'starting');
    const socketPath = join(execRoot, 'd.sock');
    const paths = { connection: { kind: 'unix' as const, path: socketPath }, socketPath, execRoot, dataRoot: join(dir, 'data'), host: `unix://${socketPath}` };
    const { mkdir } = await import('node:fs/promises');
    await mkdir(execRoot, { recursive: true });
    // This process plays the daemon that took the lock and has not bound its socket yet.
    const lock = await LogLock.acquire(execRoot, () => undefined, DAEMON_LOCK_FILE);
    const server = http.createServer((_req, res) => res.writeHead(200).end('OK'));
    try {
      assert.equal(liveLockHolder(join(execRoot, DAEMON_LOCK_FILE)), process.pid);
      const timer = setTimeout(() => void listen(server, socketPath), 700);
      const client = new DaemonClient(socketPath, ensureDaemon(paths, { ...process.env, MINI_DOCKER_NO_AUTOSTART: '' }));
      assert.equal(await client.call('GET', '/_ping'), 200);
      clearTimeout(timer);
      assert.ok(!existsSync(daemonLogPath(paths)), 'no daemon was started: its log would be there');
    } finally {
      await close(server);
      await lock.release();
    }
    assert.equal(liveLockHolder(join(execRoot, DAEMON_LOCK_FILE)), undefined, 'a released lock has no holder');
  });

  it('sends a request again, once, when the daemon went away between two requests and one was ensured', async () => {
    const socketPath = join(dir, 'restart.sock');
    const seen: string[] = [];
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      seen.push(req.url ?? '');
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ url: req.url }));
    };
    let first: http.Server | undefined = http.createServer(handler);
    let second: http.Server | undefined;
    await listen(first, socketPath);
    let ensured = 0;
    const client = new DaemonClient(socketPath, async () => {
      ensured += 1;
      second = http.createServer(handler);
      await listen(second, socketPath);
    });
    try {
      assert.deepEqual(await client.json('POST', '/containers/create'), { url: '/containers/create' });
      await close(first); // the daemon died: nothing listens (the socket file is gone)
      first = undefined;
      assert.deepEqual(await client.json('POST', '/containers/x/start'), { url: '/containers/x/start' });
      assert.equal(ensured, 1);
      assert.deepEqual(seen, ['/containers/create', '/containers/x/start'], 'each request reached a daemon once');
    } finally {
      await close(first);
      await close(second);
    }
  });

  it('does not send again a request the daemon took but never answered, and says so in one line', async () => {
    const socketPath = join(dir, 'cut.sock');
    let received = 0;
    const server = http.createServer((req) => {
      received += 1;
      req.socket.destroy(); // killed while working on it
    });
    await listen(server, socketPath);
    let ensured = 0;
    const client = new DaemonClient(socketPath, async () => { ensured += 1; });
    try {
      await assert.rejects(client.call('POST', '/containers/abc/start', { query: { t: 1 } }), (e: unknown) => {
        assert.ok(e instanceof CliError, String(e));
        assert.equal(e.message, `mini-dockerd at ${socketPath} closed the connection before answering POST /containers/abc/start (did it stop?): whether that took effect is unknown; see mini-docker ps -a`);
        return true;
      });
      assert.equal(received, 1);
      assert.equal(ensured, 0);
    } finally {
      await close(server);
    }
  });
});
