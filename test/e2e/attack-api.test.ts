import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { TestDaemon } from './harness.js';
import { assertStillServing } from './attack-support.js';

interface Answer {
  readonly status: number;
  readonly message: string;
}

/** One request through node's client; the status and the error body's message. */
function send(socketPath: string, method: string, path: string, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers: body === undefined ? {} : { 'Content-Type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => { text += c; });
      res.on('end', () => {
        let message = text;
        try {
          message = (JSON.parse(text) as { message?: string }).message ?? text;
        } catch { /* not JSON */ }
        resolve({ status: res.statusCode ?? 0, message });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface RawOptions {
  /** Bytes of body written after the head as fast as the socket takes them. */
  readonly bodyBytes?: number;
  /** Text written one byte a second after the head (a slow client). */
  readonly drip?: string;
}

/**
 * A request written raw on the socket (what node's client refuses to send): returns everything the
 * daemon answered before it closed the connection, however the client's own writes ended.
 */
function raw(socketPath: string, head: string, options: RawOptions = {}): Promise<{ text: string; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(socketPath);
    let text = '';
    let drip: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => socket.destroy(), 60_000);
    socket.setEncoding('latin1').on('data', (c: string) => { text += c; });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(giveUp);
      clearInterval(drip);
      resolve({ text, ms: Date.now() - started });
    });
    socket.write(head);
    if (options.bodyBytes !== undefined) {
      const chunk = Buffer.alloc(1 << 20, 0x20);
      let sent = 0;
      const pump = (): void => {
        while (sent < options.bodyBytes! && !socket.destroyed) {
          sent += chunk.length;
          if (!socket.write(chunk)) {
            socket.once('drain', pump);
            return;
          }
        }
      };
      pump();
    }
    if (options.drip !== undefined) {
      const bytes = options.drip;
      let i = 0;
      drip = setInterval(() => {
        if (i < bytes.length && !socket.destroyed) socket.write(bytes[i++]!);
      }, 1000);
    }
  });
}

function statusOf(text: string): number {
  return Number(/^HTTP\/1\.1 (\d{3}) /.exec(text)?.[1] ?? 0);
}

function messageOf(text: string): string {
  const body = text.slice(text.indexOf('\r\n\r\n') + 4);
  return (JSON.parse(body) as { message: string }).message;
}

/**
 * The attack suite against the API: malformed and mistyped JSON, a 100 MB body, huge headers, slow
 * clients (one byte a second) and a thousand connections at once each get a clear 4xx (or their
 * answer), and the daemon keeps serving everyone else (docs/security.md, "The attack suite").
 */
describe('e2e: attacks on the API', { timeout: 240_000 }, () => {
  const d = new TestDaemon('attack-api');
  before(() => d.start());
  after(() => d.cleanup());

  it('malformed JSON and wrong types: 400 with a message naming the field, nothing created', async () => {
    const run = await d.cli(['run', '-d', '--name', 'target', 'busybox', 'sleep', '60']);
    assert.equal(run.code, 0, run.stderr);
    const cases: [string, string, string, RegExp][] = [
      ['POST', '/containers/create', '{"Image": "busybox", ', /^invalid JSON in container config: /],
      ['POST', '/containers/create', '[1, 2]', /^container config must be a JSON object$/],
      ['POST', '/containers/create', '{"Image": 5}', /^invalid value for Image: expected a string$/],
      ['POST', '/containers/create', '{"Image": "busybox", "Cmd": ["sh", 1]}', /^invalid value for Cmd: expected an array of strings$/],
      ['POST', '/containers/create', '{"Image": "busybox", "Env": {"A": 1}}', /^invalid value for Env: expected an array of strings$/],
      ['POST', '/containers/create', '{"Image": "busybox", "Labels": {"a": {"b": 1}}}', /^invalid value for Labels\.a: expected a string$/],
      ['POST', '/containers/create', '{"Image": "busybox", "HostConfig": {"Memory": "lots"}}', /^invalid value for Memory: expected a number$/],
      ['POST', '/containers/create', '{"Image": "busybox", "HostConfig": {"Memory": 1e300}}', /^invalid Memory 1e\+300: a whole number is needed$/],
      ['POST', '/containers/create', '\u0000\u0001\u0002', /^invalid JSON in container config: /],
      ['POST', '/containers/target/exec', '{"Cmd": 7}', /^invalid value for Cmd: expected an array of strings$/],
      ['POST', '/containers/target/update', '{"Memory": "x"}', /^invalid value for Memory: expected a number$/],
      ['POST', '/containers/target/update', 'nul', /^invalid JSON in update: /],
    ];
    for (const [method, path, body, message] of cases) {
      const answer = await send(d.socketPath, method, path, body);
      assert.equal(answer.status, 400, `${path} ${body}: ${answer.message}`);
      assert.match(answer.message, message, `${path} ${body}`);
    }
    const ps = await d.cli(['ps', '-a', '--format', '{{.Names}}']);
    assert.equal(ps.stdout, 'target\n', 'nothing but the target was created');
    assert.equal((await d.cli(['rm', '-f', 'target'])).code, 0);
    await assertStillServing(d, 'after malformed JSON');
  });

  it('a 100 MB create body, declared or chunked: 413 naming the limit; huge headers: 431', async () => {
    const hundredMb = 100 * 1024 * 1024;
    const declared = await raw(d.socketPath, `POST /containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: ${hundredMb}\r\n\r\n`, { bodyBytes: hundredMb });
    assert.equal(statusOf(declared.text), 413, declared.text.slice(0, 300));
    assert.match(messageOf(declared.text), /^request body too large: this endpoint takes at most 16777216 bytes of JSON, the client sent 104857600 bytes$/);

    const chunk = `100000\r\n${' '.repeat(0x100000)}\r\n`;
    const chunked = await raw(d.socketPath, `POST /containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${chunk.repeat(20)}0\r\n\r\n`);
    assert.equal(statusOf(chunked.text), 413, chunked.text.slice(0, 300));
    assert.match(messageOf(chunked.text), /^request body too large: /);

    // Upgraded (exec start as the docker CLI sends it): the body is refused before it is read.
    const upgraded = await raw(d.socketPath, `POST /exec/x/start HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${hundredMb}\r\n\r\n`);
    assert.equal(statusOf(upgraded.text), 413, upgraded.text.slice(0, 300));

    const bigHeader = await raw(d.socketPath, `GET /_ping HTTP/1.1\r\nHost: d\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`);
    assert.equal(statusOf(bigHeader.text), 431, bigHeader.text);
    assert.match(messageOf(bigHeader.text), /^request headers too large: at most 16384 bytes/);
    const manyHeaders = await raw(d.socketPath, `GET /_ping HTTP/1.1\r\nHost: d\r\n${Array.from({ length: 5000 }, (_, i) => `X-H${i}: v\r\n`).join('')}\r\n`);
    assert.equal(statusOf(manyHeaders.text), 431, manyHeaders.text);

    const garbage = await raw(d.socketPath, 'NOT HTTP AT ALL\r\n\r\n');
    assert.equal(statusOf(garbage.text), 400, garbage.text);
    assert.match(messageOf(garbage.text), /^malformed HTTP request: /);
    await assertStillServing(d, 'after huge bodies and headers');
  });

  it('slow clients (one byte a second, in the head, the body, an upgraded body) get 408 and are closed while others are served', async () => {
    const body = '{"Image":"busybox","Cmd":["true"]}';
    const slow = Promise.all([
      raw(d.socketPath, '', { drip: 'GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n' }),
      raw(d.socketPath, `POST /containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`, { drip: body }),
      raw(d.socketPath, `POST /exec/x/start HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`, { drip: body }),
    ]);
    // Meanwhile the daemon serves everyone else.
    await assertStillServing(d, 'while slow clients hold connections');
    const [head, json, upgraded] = await slow;
    assert.equal(statusOf(head.text), 408, head.text);
    assert.match(messageOf(head.text), /^request headers not received within 10 s: the client is too slow or stalled; the connection is closed$/);
    for (const answer of [json, upgraded]) {
      assert.equal(statusOf(answer.text), 408, answer.text);
      assert.match(messageOf(answer.text), /^request body not received within 10 s: /);
    }
    // Closed by the daemon, long before the 34 s the slow body would have taken.
    for (const answer of [head, json, upgraded]) assert.ok(answer.ms < 30_000, `a slow client was held ${answer.ms} ms`);
    assert.equal((await d.cli(['ps', '-aq'])).stdout, '', 'the slow create created nothing');
    for (const answer of [json, upgraded]) assert.ok(answer.ms < 20_000, `a slow body was held ${answer.ms} ms`);
    await assertStillServing(d, 'after slow clients');
  });

  it('1,000 concurrent connections are all answered', async () => {
    const agent = new Agent({ maxSockets: Number.POSITIVE_INFINITY });
    try {
      const codes = new Map<string, number>();
      await Promise.all(Array.from({ length: 1000 }, (_, i) => new Promise<void>((resolve) => {
        const count = (key: string): void => {
          codes.set(key, (codes.get(key) ?? 0) + 1);
          resolve();
        };
        const req = request({ socketPath: d.socketPath, agent, path: i % 2 === 0 ? '/_ping' : '/containers/json?all=1' }, (res) => {
          res.resume();
          res.on('end', () => count(String(res.statusCode)));
        });
        req.on('error', (err: NodeJS.ErrnoException) => count(err.code ?? err.message));
        req.end();
      })));
      assert.deepEqual([...codes], [['200', 1000]]);
    } finally {
      agent.destroy();
    }
    await assertStillServing(d, 'after 1,000 connections');
  });
});
