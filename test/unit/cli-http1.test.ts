// Unit: the CLI's own HTTP/1.1 client (cli/lib/http1.ts) against node's HTTP server (what it
// sends) and against a raw socket server that writes crafted responses byte by byte (what it reads:
// every framing, split anywhere, and every way a response can be broken).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { readBody } from '../../cli/lib/daemon-client.js';
import { ChunkedDecoder, http1Request, Http1Response, HttpProtocolError, parseResponseHead, type Http1RequestOptions } from '../../cli/lib/http1.js';

function listen(server: Server | http.Server, path: string): Promise<void> {
  return new Promise((resolve) => server.listen(path, resolve));
}
function close(server: Server | http.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

async function response(options: Http1RequestOptions): Promise<Http1Response> {
  const res = await http1Request(options);
  assert.ok(res instanceof Http1Response, 'a response, not an upgrade');
  return res;
}

describe('http1: parsing pieces', () => {
  it('parses a status line and headers (lower-case names, repeats joined)', () => {
    const head = parseResponseHead('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nX-A: 1\r\nx-a: 2');
    assert.equal(head.statusCode, 404);
    assert.equal(head.statusMessage, 'Not Found');
    assert.deepEqual(head.headers, { 'content-type': 'application/json', 'x-a': '1, 2' });
    assert.equal(parseResponseHead('HTTP/1.0 204').statusCode, 204);
    assert.throws(() => parseResponseHead('SSH-2.0-OpenSSH'), HttpProtocolError);
    assert.throws(() => parseResponseHead('HTTP/1.1 200 OK\r\nno colon here'), /malformed HTTP header line/);
  });

  it('decodes a chunked body split at every byte, with extensions and trailers', () => {
    const wire = Buffer.from('5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\nNEXT');
    for (let split = 0; split <= wire.length; split++) {
      const d = new ChunkedDecoder();
      const parts = [...d.push(wire.subarray(0, split)), ...d.push(wire.subarray(split))];
      assert.equal(Buffer.concat(parts).toString(), 'hello 0123456789', `split at ${split}`);
      assert.ok(d.done);
    }
    const oneByOne = new ChunkedDecoder();
    let out = '';
    for (const b of wire) for (const p of oneByOne.push(Buffer.from([b]))) out += p.toString();
    assert.equal(out, 'hello 0123456789');
  });

  it('refuses a malformed chunked body', () => {
    assert.throws(() => new ChunkedDecoder().push(Buffer.from('zz\r\n')), /malformed chunk size/);
    assert.throws(() => new ChunkedDecoder().push(Buffer.from('2\r\nabXY\r\n')), /no CRLF after a chunk/);
  });
});

describe('http1: requests to node\'s HTTP server', () => {
  let dir = '';
  let socketPath = '';
  let server: http.Server;

  before(async () => {
    dir = mkdtempSync(join(process.env.TINY_DOCKER_TEST_SCRATCH ?? tmpdir(), 'http1-'));
    socketPath = join(dir, 'node.sock');
    server = http.createServer((req, res) => {
      void readBody(req).then((body) => {
        if (req.url === '/big') {
          res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
          const block = Buffer.alloc(64 * 1024, 7);
          for (let i = 0; i < 64; i++) res.write(block);
          res.end();
          return;
        }
        if (req.url === '/slow') return; // never answers
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(
          JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: body.toString() }),
        );
      });
    });
    await listen(server, socketPath);
  });
  after(async () => {
    server.closeAllConnections();
    await close(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends method, path, headers and a Buffer body with its length', async () => {
    const res = await response({ socketPath, method: 'POST', path: '/x?a=1', headers: { 'Content-Type': 'application/json' }, body: Buffer.from('{"k":1}') });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'application/json');
    const got = JSON.parse((await readBody(res)).toString()) as { method: string; url: string; headers: Record<string, string>; body: string };
    assert.equal(got.method, 'POST');
    assert.equal(got.url, '/x?a=1');
    assert.equal(got.headers['content-length'], '7');
    assert.equal(got.headers.connection, 'close');
    assert.equal(got.body, '{"k":1}');
  });

  it('sends a stream as a chunked body', async () => {
    const parts = ['a'.repeat(100_000), 'b', 'c'.repeat(3)];
    const res = await response({ socketPath, method: 'POST', path: '/upload', body: Readable.from(parts.map((p) => Buffer.from(p))) });
    const got = JSON.parse((await readBody(res)).toString()) as { headers: Record<string, string>; body: string };
    assert.equal(got.headers['transfer-encoding'], 'chunked');
    assert.equal(got.body, parts.join(''));
  });

  it('reads a large chunked response with a slow reader (backpressure), byte for byte', async () => {
    const res = await response({ socketPath, method: 'GET', path: '/big' });
    let total = 0;
    for await (const chunk of res) {
      total += (chunk as Buffer).length;
      if (total < 1024 * 1024) await new Promise((r) => setImmediate(r));
    }
    assert.equal(total, 64 * 64 * 1024);
  });

  it('fails with the socket error when nothing listens, and on timeout or abort', async () => {
    await assert.rejects(http1Request({ socketPath: join(dir, 'none.sock'), method: 'GET', path: '/' }), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
    await assert.rejects(http1Request({ socketPath, method: 'GET', path: '/slow', timeoutMs: 50 }), /no answer within 50 ms/);
    const controller = new AbortController();
    const pending = http1Request({ socketPath, method: 'GET', path: '/slow', signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(pending, (e: Error) => e.name === 'AbortError');
  });

  it('refuses a header value that would split the request', async () => {
    await assert.rejects(http1Request({ socketPath, method: 'GET', path: '/', headers: { 'X-Evil': 'a\r\nX-Injected: 1' } }), /invalid HTTP header/);
  });
});

describe('http1: crafted responses', () => {
  let dir = '';
  let socketPath = '';
  let server: Server;
  /** What the raw server writes for the next connection, as pieces written one after another. */
  let script: (socket: Socket) => void = () => undefined;
  const sockets = new Set<Socket>();

  before(async () => {
    dir = mkdtempSync(join(process.env.TINY_DOCKER_TEST_SCRATCH ?? tmpdir(), 'http1-raw-'));
    socketPath = join(dir, 'raw.sock');
    server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      let seen = '';
      let answered = false;
      socket.on('data', (d: Buffer) => {
        seen += d.toString('latin1');
        if (!answered && seen.includes('\r\n\r\n')) {
          answered = true;
          script(socket);
        }
      });
    });
    await listen(server, socketPath);
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await close(server);
    rmSync(dir, { recursive: true, force: true });
  });

  /** Writes the pieces with a pause between them, so that the client sees them apart. */
  function pieces(...parts: (string | Buffer)[]): (socket: Socket) => void {
    return (socket) => {
      let i = 0;
      const next = (): void => {
        if (i === parts.length) return;
        socket.write(parts[i++]!);
        setTimeout(next, 2);
      };
      next();
    };
  }

  async function body(method = 'GET'): Promise<{ res: Http1Response; text: string }> {
    const res = await response({ socketPath, method, path: '/' });
    return { res, text: (await readBody(res)).toString() };
  }

  it('reads a Content-Length body split anywhere, and takes no more than its length', async () => {
    script = pieces('HTTP/1.1 200 OK\r\nContent-Le', 'ngth: 11\r\n\r', '\nhello', ' world', 'EXTRA');
    const { res, text } = await body();
    assert.equal(res.statusCode, 200);
    assert.equal(text, 'hello world');
  });

  it('reads a chunked body split anywhere', async () => {
    script = pieces('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r', '\nhel', 'lo\r\n6\r\n world\r\n0\r\n', '\r\n');
    assert.equal((await body()).text, 'hello world');
  });

  it('reads a body that ends with the connection', async () => {
    script = (socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end');
    assert.equal((await body()).text, 'until the end');
  });

  it('has no body for 204, 304 and HEAD, and skips a 100 Continue', async () => {
    script = pieces('HTTP/1.1 204 No Content\r\n\r\n');
    const noContent = await body();
    assert.deepEqual([noContent.res.statusCode, noContent.text], [204, '']);
    script = pieces('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n');
    assert.equal((await body('HEAD')).text, '');
    script = pieces('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok');
    const r = await body('POST');
    assert.deepEqual([r.res.statusCode, r.text], [201, 'ok']);
  });

  it('hands over the socket on a 101, with the bytes that came with the head', async () => {
    script = (socket) => {
      socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nUpgrade: tcp\r\n\r\nfirst bytes');
      socket.on('data', (d: Buffer) => socket.end(`echo:${d.toString()}`));
    };
    const up = await http1Request({ socketPath, method: 'POST', path: '/attach', headers: { Upgrade: 'tcp' }, upgrade: true });
    assert.ok(!(up instanceof Http1Response));
    assert.equal(up.headers['content-type'], 'application/vnd.docker.raw-stream');
    assert.equal(up.head.toString(), 'first bytes');
    up.socket.write('ping');
    up.socket.resume();
    const rest = await readBody(up.socket);
    assert.equal(rest.toString(), 'echo:ping');
  });

  it('says what is wrong with a broken response, never hangs', async () => {
    script = (socket) => socket.end('garbage\r\n\r\n');
    await assert.rejects(body(), /malformed HTTP status line/);
    script = (socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort');
    await assert.rejects(body(), /closed in the middle of the response body/);
    script = (socket) => socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel');
    await assert.rejects(body(), /closed in the middle of the response body/);
    script = (socket) => socket.end('HTTP/1.1 200 O');
    await assert.rejects(body(), /closed before a response arrived/);
    script = (socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n');
    await assert.rejects(body(), /malformed Content-Length/);
  });
});
