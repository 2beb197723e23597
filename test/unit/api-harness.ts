/**
 * The API server over a real unix socket in a temporary folder, with an engine behind it (the
 * real one on in-memory drivers: engine-rig.ts), and clients to talk to it: whole requests, a
 * request whose body keeps streaming, and raw connections for hijacked streams; and a suite's
 * seeded rig with its server, made and closed around the suite (`serveSeededRig`).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as http from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { createApiServer } from '../../core/api/api-server.js';
import type { ContainerEngine } from '../../core/engine/container-engine.js';
import type { Engine } from '../../core/engine/engine.js';
import { seededRig, type EngineRig, type Seeded } from './engine-rig.js';

export interface HttpReply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface Harness<E extends Engine = Engine> {
  readonly engine: E;
  readonly socketPath: string;
  readonly dir: string;
  request(method: string, path: string, options?: { headers?: Record<string, string>; body?: string | Buffer }): Promise<HttpReply>;
  /** Sends a request and resolves with the response as soon as its headers arrive (the body keeps streaming). */
  open(method: string, path: string, options?: { headers?: Record<string, string>; body?: string | Buffer }): Promise<{ res: http.IncomingMessage; req: http.ClientRequest }>;
  /** A raw connection (half-close capable) for hijack tests. */
  connect(): Promise<RawClient>;
  close(): Promise<void>;
}

export async function startHarness<E extends Engine>(engine: E): Promise<Harness<E>> {
  const dir = await mkdtemp(join(process.env.TINY_DOCKER_TEST_SCRATCH ?? tmpdir(), 'api-'));
  const socketPath = join(dir, 'api.sock');
  const server = createApiServer(engine, { version: '0.1.0-test' });
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));

  const open: Harness['open'] = (method, path, options = {}) => new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path, headers: options.headers ?? {}, agent: false }, (res) => resolve({ res, req }));
    req.on('error', reject);
    req.end(options.body);
  });

  return {
    engine,
    socketPath,
    dir,
    open,
    async request(method, path, options) {
      const { res } = await open(method, path, options);
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) };
    },
    connect() {
      return new Promise((resolve, reject) => {
        const s = net.connect({ path: socketPath, allowHalfOpen: true }, () => resolve(new RawClient(s)));
        s.on('error', reject);
      });
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A raw connection that keeps everything it received, for hijack tests. */
export class RawClient {
  data = Buffer.alloc(0);
  ended = false;
  closed = false;
  private readonly listeners = new Set<() => void>();

  constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.data = Buffer.concat([this.data, chunk]);
      this.notify();
    });
    socket.on('end', () => {
      this.ended = true;
      this.notify();
    });
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  /** Resolves with all bytes so far once `done` holds; rejects on timeout or when the socket ended first. */
  waitFor(done: (data: Buffer) => boolean, timeoutMs = 3000): Promise<Buffer> {
    return this.watch(() => {
      if (done(this.data)) return 'done';
      return this.ended || this.closed ? new Error(`connection ended; got ${this.shown()}`) : undefined;
    }, 'timed out', timeoutMs);
  }

  /** Resolves with all bytes once the server closed its side. */
  waitEnd(timeoutMs = 3000): Promise<Buffer> {
    return this.watch(() => (this.ended || this.closed ? 'done' : undefined), 'no end', timeoutMs);
  }

  private shown(): string {
    return JSON.stringify(this.data.toString('latin1'));
  }

  /** Checks `outcome` now and on every change: 'done' resolves with the bytes, an Error rejects; `timeoutMs` later it rejects saying `late`. */
  private watch(outcome: () => 'done' | Error | undefined, late: string, timeoutMs: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const result = outcome();
        if (result === undefined) return;
        cleanup();
        if (result === 'done') resolve(this.data);
        else reject(result);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${late}; got ${this.shown()}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }
}

/** A call the API server made to the engine: the method and its arguments. */
export interface EngineCall {
  readonly method: string;
  readonly args: readonly unknown[];
}

/**
 * The engine as the API server sees it, every call recorded in order (what a CLI command made
 * the server ask for: `docker run`'s attach, wait, start; the options of a stop). It only
 * watches: the engine behind it does the work.
 */
export function recordCalls<E extends object>(engine: E): { readonly engine: E; readonly calls: EngineCall[] } {
  const calls: EngineCall[] = [];
  const spy = new Proxy(engine, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return (...args: unknown[]): unknown => {
        calls.push({ method: property, args });
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { engine: spy, calls };
}

/** What one suite of API tests runs against (`serveSeededRig`). */
export interface ServedRig {
  readonly rig: EngineRig & { readonly ids: Seeded };
  readonly h: Harness<ContainerEngine>;
  /** What the server asked the engine, in order, when the suite records calls; else empty. */
  readonly calls: EngineCall[];
}

/**
 * The seeded rig (engine-rig.ts `seededRig`) and the API server over its engine, through
 * `recordCalls` when `record`, for the suite it is called in: made in the suite's before(), then
 * given to `use` (which keeps them in the suite's variables and may add its own setup), closed in
 * its after(). Example: `serveSeededRig(async (s) => { ({ rig, h } = s); docker = new Docker({ socketPath: h.socketPath }); })`.
 */
export function serveSeededRig(use: (served: ServedRig) => void | Promise<void>, options: { readonly record?: boolean } = {}): void {
  let served: ServedRig | undefined;
  before(async () => {
    const rig = await seededRig();
    try {
      const spy = options.record ? recordCalls(rig.engine) : { engine: rig.engine, calls: [] };
      served = { rig, h: await startHarness(spy.engine), calls: spy.calls };
    } catch (error) {
      await rig.dispose();
      throw error;
    }
    await use(served);
  });
  after(async () => {
    await served?.h.close();
    await served?.rig.dispose();
  });
}
