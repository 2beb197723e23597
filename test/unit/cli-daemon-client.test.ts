// Unit: the CLI's HTTP client over a unix socket, against a small fake server: JSON and error
// bodies, headers before bodies (wait), JSON-line streams, and a hijacked stream with half-close.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ensureDaemon, lastLines } from '../../cli/lib/daemon-autostart.js';
import { DaemonClient, buildPath, readBody } from '../../cli/lib/daemon-client.js';
import { CliError, DaemonError } from '../../cli/lib/errors.js';
import { encodeFrame } from '../../cli/lib/stdcopy.js';
import { pumpStreams } from '../../cli/lib/stream-pump.js';

describe('daemon client', () => {
  let dir: string;
  let socketPath: string;
  let server: http.Server;
  let finishWait: (() => void) | undefined;
  const seen: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(process.env.TINY_DOCKER_TEST_SCRATCH ?? tmpdir(), 'cli-client-'));
    socketPath = join(dir, 'd.sock');
    server = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      if (req.url === '/_ping') {
        res.writeHead(200, { 'Api-Version': '1.50' }).end('OK');
      } else if (req.url === '/missing') {
        res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"message":"No such container: 3f2a"}');
      } else if (req.url === '/empty-error') {
        res.writeHead(500).end();
      } else if (req.url === '/text-error') {
        res.writeHead(409, { 'Content-Type': 'text/plain' }).end('plain conflict\n');
      } else if (req.url?.startsWith('/wait')) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.flushHeaders();
        finishWait = () => res.end('{"StatusCode":3,"Error":null}\n');
      } else if (req.url === '/lines') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write('{"a":1}\r\n{"a"');
        setTimeout(() => res.end(':2}\n\n{"a":3}'), 10);
      } else if (req.url === '/echo-json') {
        void readBody(req).then((b) => res.writeHead(201, { 'Content-Type': 'application/json' }).end(JSON.stringify({ got: JSON.parse(b.toString()), type: req.headers['content-type'] })));
      } else {
        res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"message":"page not found"}');
      }
    });
    server.on('upgrade', (req: http.IncomingMessage, socket: Socket) => {
      seen.push(`UPGRADE ${req.method} ${req.url} ${req.headers.upgrade}`);
      socket.on('error', () => {}); // a client that detached is gone
      if (req.url === '/attach-missing') {
        socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 37\r\n\r\n{"message":"No such container: nope"}');
        return;
      }
      socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
      socket.write(encodeFrame('stdout', 'hello\n'));
      socket.write(encodeFrame('stderr', 'warn\n'));
      socket.on('data', (d: Buffer) => socket.write(encodeFrame('stdout', d)));
      socket.on('end', () => {
        // stdin EOF (half-close): output must still reach the client.
        setTimeout(() => socket.end(encodeFrame('stdout', 'after eof\n')), 20);
      });
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('encodes queries like the docker CLI (1/0 booleans, repeated keys, nothing for undefined)', () => {
    assert.equal(buildPath('/x', { all: true, pause: false, none: undefined, names: ['a', 'b:c'], t: 5 }), '/x?all=1&pause=0&names=a&names=b%3Ac&t=5');
    assert.equal(buildPath('/x', {}), '/x');
  });

  it('sends JSON bodies and parses JSON replies', async () => {
    const c = new DaemonClient(socketPath);
    try {
      assert.deepEqual(await c.json('POST', '/echo-json', { json: { Image: 'busybox' } }), { got: { Image: 'busybox' }, type: 'application/json' });
    } finally {
      c.close();
    }
  });

  it('turns {"message"} error bodies into a DaemonError with that message and status', async () => {
    const c = new DaemonClient(socketPath);
    try {
      await assert.rejects(c.call('GET', '/missing'), (e: unknown) => e instanceof DaemonError && e.message === 'No such container: 3f2a' && e.status === 404);
      await assert.rejects(c.call('GET', '/empty-error'), /request returned 500 for API route \/empty-error/);
      await assert.rejects(c.call('GET', '/text-error'), (e: unknown) => e instanceof DaemonError && e.message === 'plain conflict');
    } finally {
      c.close();
    }
  });

  it('resolves a request when its headers arrive, before its body (wait before start)', async () => {
    const c = new DaemonClient(socketPath);
    try {
      const res = await c.request('POST', '/wait', { query: { condition: 'next-exit' } });
      assert.equal(res.statusCode, 200);
      assert.ok(finishWait, 'the server is still holding the body');
      finishWait!();
      assert.equal((await readBody(res)).toString(), '{"StatusCode":3,"Error":null}\n');
    } finally {
      c.close();
    }
  });

  it('streams JSON lines split across chunks', async () => {
    const c = new DaemonClient(socketPath);
    try {
      const got: unknown[] = [];
      for await (const v of c.stream<{ a: number }>('GET', '/lines')) got.push(v.a);
      assert.deepEqual(got, [1, 2, 3]);
    } finally {
      c.close();
    }
  });

  it('hijacks, demuxes, forwards stdin, half-closes at EOF and still reads the output', async () => {
    const c = new DaemonClient(socketPath);
    const conn = await c.hijack('POST', '/containers/x/attach', { query: { stream: true, stdin: true, stdout: true, stderr: true } });
    assert.equal(conn.contentType, 'application/vnd.docker.multiplexed-stream');
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (d: Buffer) => (out += d.toString()));
    stderr.on('data', (d: Buffer) => (err += d.toString()));
    const done = pumpStreams({ connection: conn, tty: false, stdin, stdout, stderr });
    stdin.write('data\n');
    setTimeout(() => stdin.end(), 20);
    const result = await done;
    assert.equal(result.detached, false);
    assert.equal(out, 'hello\ndata\nafter eof\n');
    assert.equal(err, 'warn\n');
    assert.ok(seen.includes('UPGRADE POST /containers/x/attach?stream=1&stdin=1&stdout=1&stderr=1 tcp'), seen.join('\n'));
    c.close();
  });

  it('detaches on Ctrl-P Ctrl-Q in a tty session', async () => {
    const c = new DaemonClient(socketPath);
    const conn = await c.hijack('POST', '/containers/x/attach');
    const stdin = new PassThrough();
    const sink = new PassThrough().resume();
    const done = pumpStreams({ connection: conn, tty: true, stdin, stdout: sink, stderr: sink, detachKeys: [0x10, 0x11] });
    stdin.write(Buffer.from([0x10, 0x11]));
    assert.deepEqual(await done, { detached: true });
    c.close();
  });

  it('reports an error status instead of the 101', async () => {
    const c = new DaemonClient(socketPath);
    await assert.rejects(c.hijack('POST', '/attach-missing'), (e: unknown) => e instanceof DaemonError && e.message === 'No such container: nope');
    c.close();
  });

  it('says where it looked when nothing answers and autostart is off', async () => {
    const paths = { connection: { kind: 'unix' as const, path: join(dir, 'nobody.sock') }, socketPath: join(dir, 'nobody.sock'), execRoot: dir, dataRoot: dir, host: `unix://${join(dir, 'nobody.sock')}` };
    const c = new DaemonClient(paths.socketPath, ensureDaemon(paths, { MINI_DOCKER_NO_AUTOSTART: '1' }));
    await assert.rejects(c.call('GET', '/_ping'), (e: unknown) => {
      assert.equal((e as Error).message, `cannot reach mini-dockerd at ${paths.socketPath} (ENOENT); not starting it because MINI_DOCKER_NO_AUTOSTART=1`);
      return true;
    });
    c.close();
  });

  it('sends requests straight away when a daemon answers: no ping, no ensure', async () => {
    const before = seen.filter((s) => s === 'GET /_ping').length;
    let ensured = 0;
    const c = new DaemonClient(socketPath, async () => {
      ensured++;
    });
    await assert.rejects(c.call('GET', '/missing'));
    assert.deepEqual(await c.json('POST', '/echo-json', { json: { a: 1 } }), { got: { a: 1 }, type: 'application/json' });
    assert.equal(seen.filter((s) => s === 'GET /_ping').length, before);
    assert.equal(ensured, 0);
    c.close();
  });

  it('ensures a daemon once when nothing listens, then sends the request again', async () => {
    const late = join(dir, 'late.sock');
    let ensured = 0;
    let lateServer: http.Server | undefined;
    const c = new DaemonClient(late, async () => {
      ensured++;
      lateServer = http.createServer((req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ url: req.url })));
      await new Promise<void>((resolve) => lateServer!.listen(late, resolve));
    });
    try {
      const [a, b] = await Promise.all([c.json<{ url: string }>('GET', '/one'), c.json<{ url: string }>('GET', '/two')]);
      assert.deepEqual([a.url, b.url], ['/one', '/two']);
      assert.equal((await c.json<{ url: string }>('GET', '/three')).url, '/three');
      assert.equal(ensured, 1);
    } finally {
      c.close();
      await new Promise<void>((resolve) => (lateServer ? lateServer.close(() => resolve()) : resolve()));
    }
  });

  it('says the daemon cannot be reached, in one line, when nothing listens and there is no autostart', async () => {
    const c = new DaemonClient(join(dir, 'none.sock'));
    await assert.rejects(c.call('GET', '/_ping'), (e: unknown) => e instanceof CliError && e.message === `cannot reach mini-dockerd at ${join(dir, 'none.sock')}: ENOENT`);
  });

  it('keeps the last lines of a daemon log on one line', () => {
    assert.equal(lastLines('a\nb\n\nc\nd\n'), 'b | c | d');
  });
});
