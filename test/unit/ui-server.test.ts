// Unit: the server of `mini-docker ui` over a history held in memory (as `ui --log` runs it), on a
// loopback port: assets, the page's routes and their errors, and what it refuses.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Router } from '../../core/api/router.js';
import { MemoryHistory } from '../../core/api/ui-history.js';
import { registerUiRoutesOn } from '../../core/api/ui-routes.js';
import type { Timeline, UiState } from '../../core/api/ui-types.js';
import { createUiServer } from '../../cli/ui/ui-server.js';
import { envelopes } from '../fixtures/event-envelopes.js';

const ID = 'd'.repeat(63) + '4';

const LOG = envelopes([
  {
    type: 'ContainerCreated',
    data: {
      id: ID, name: 'web', image: { ref: 'busybox', id: `sha256:${'c'.repeat(64)}` },
      config: { Cmd: ['sleep', '9'], Entrypoint: null, Env: [], WorkingDir: '', User: '', Hostname: 'web', Tty: false, OpenStdin: false, StdinOnce: false, AttachStdin: false, AttachStdout: true, AttachStderr: true, Labels: {} },
      hostConfig: { AutoRemove: false, LogConfig: { Type: 'json-file', Config: {} } },
    },
  },
  { type: 'ContainerStarted', data: { id: ID, pid: 7, shimPid: 6, drivers: [] } },
  { type: 'ContainerExited', data: { id: ID, name: 'web', exitCode: 2, signal: null, oomKilled: false, finishedAt: '2026-11-28T10:00:02Z' } },
]);

interface Answer {
  readonly status: number;
  readonly type: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

describe('unit: the mini-docker ui server over a copied log', () => {
  let server: http.Server;
  let port = 0;
  let assets = '';

  const get = (path: string, options: { host?: string; method?: string } = {}): Promise<Answer> => new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: { Host: options.host ?? `127.0.0.1:${port}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });

  before(async () => {
    assets = await mkdtemp(join(tmpdir(), 'ui-assets-'));
    await writeFile(join(assets, 'index.html'), '<!doctype html><title>t</title>');
    await writeFile(join(assets, 'app.js'), 'export {};');
    const router = new Router();
    registerUiRoutesOn(router, new MemoryHistory(LOG));
    server = createUiServer({ kind: 'history', router }, assets);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await rm(assets, { recursive: true, force: true });
  });

  it('serves the page and its assets with a strict content policy', async () => {
    const page = await get('/');
    assert.equal(page.status, 200);
    assert.equal(page.type, 'text/html; charset=utf-8');
    assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
    assert.equal((await get('/assets/app.js')).type, 'text/javascript; charset=utf-8');
    const missing = await get('/assets/app.css');
    assert.equal(missing.status, 500);
    assert.match(JSON.parse(missing.body).message, /the page is not built .*app\.css is missing\): run "npm run build"/);
    assert.equal((await get('/etc/passwd')).status, 404);
  });

  it('answers the page\'s routes at a position, and says what is wrong in one line', async () => {
    const at2 = JSON.parse((await get('/api/tiny/ui/state?until=2')).body) as UiState;
    assert.deepEqual([at2.position, at2.lastPosition, at2.live, at2.containers[0]!.state, at2.containers[0]!.status], [2, 3, false, 'running', 'Up Less than a second']);
    const now = JSON.parse((await get('/api/tiny/ui/state')).body) as UiState;
    assert.equal(now.containers[0]!.exitCode, 2);
    const timeline = JSON.parse((await get(`/api/tiny/ui/containers/${ID}/timeline`)).body) as Timeline;
    assert.deepEqual(timeline.entries.map((e) => e.kind), ['created', 'started', 'died']);
    const before = await get(`/api/tiny/ui/containers/${ID}/timeline?until=0`);
    assert.equal(before.status, 404);
    assert.match(JSON.parse(before.body).message, /^No such container: d+4 \(as of position 0\)$/);
    const bad = await get('/api/tiny/ui/state?until=soon');
    assert.equal(bad.status, 400);
    assert.match(JSON.parse(bad.body).message, /invalid value for until: soon/);
    assert.equal((await get('/api/tiny/ui/events?limit=0')).status, 400);
    assert.equal((await get('/api/tiny/ui/events?filters={"colour":["red"]}')).status, 400);
    const events = JSON.parse((await get('/api/tiny/ui/events?filters={"event":["die"]}')).body) as { matched: number };
    assert.equal(events.matched, 1);
    const live = await get('/api/tiny/ui/live');
    assert.equal(live.status, 404);
    assert.match(JSON.parse(live.body).message, /no live updates: this history is a copied log/);
    const logs = await get(`/api/containers/${ID}/logs?stdout=1`);
    assert.equal(logs.status, 404);
    assert.match(JSON.parse(logs.body).message, /logs and stats need the daemon/);
  });

  it('refuses writes and requests addressed to a name that is not loopback', async () => {
    assert.equal((await get('/api/tiny/ui/state', { method: 'POST' })).status, 405);
    const rebound = await get('/api/tiny/ui/state', { host: `attacker.example:${port}` });
    assert.equal(rebound.status, 403);
    assert.match(JSON.parse(rebound.body).message, /not a loopback address/);
    assert.equal((await get('/', { host: `localhost:${port}` })).status, 200);
  });
});
