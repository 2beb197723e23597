/**
 * The bridge driver's long-lived rtnetlink session: `mini-docker-netlink` (native/netlink-session.c,
 * built by `npm run build` into dist/plugins/network-bridge/bin), started on first use and kept,
 * so that wiring a container costs two netlink batches inside that process instead of starting
 * `nsenter` and `ip` (two execs and iproute2's libraries, 5-10 ms of a start under load). Requests go
 * one per line and are answered one per line in order, so several can be in flight (concurrent
 * starts): each waits for its own answer. A session that dies (seen at 'close', once its answers
 * are read) fails what was in flight with its stderr and is started again on the next request; a
 * request not answered in REQUEST_TIMEOUT_MS fails and its helper is killed (by its PID) and
 * started again. A request longer than MAX_REQUEST_BYTES is refused before it is sent.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built helper, next to this module's compiled file. */
export const NETLINK_HELPER = join(dirname(fileURLToPath(import.meta.url)), 'bin', 'mini-docker-netlink');

/** A request the helper refused: its errno and one line naming the step that failed. */
export class NetlinkError extends Error {
  constructor(readonly errno: number, message: string) {
    super(message);
    this.name = 'NetlinkError';
  }
}

/**
 * One veth pair: the host end on the bridge, its peer inside the namespace `netns` (a path, or
 * `pid:<pid>:<parent>`: the namespace of the process <pid>, opened through a pidfd only while it
 * is <parent>'s child) with the address and, given a gateway, the default route.
 */
export interface NetlinkAttach {
  readonly netns: string;
  readonly hostEnd: string;
  readonly bridge: string;
  readonly mtu: number;
  readonly interface: string;
  readonly mac: string;
  readonly ip: string;
  readonly prefix: number;
  readonly gateway: string | null;
  readonly alias: string;
}

interface Waiting {
  readonly line: string;
  resolve(): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout | undefined;
}

/** One helper process and what belongs to it alone: its waiters in order, its output under way. */
interface Helper {
  readonly child: ChildProcessWithoutNullStreams;
  readonly waiting: Waiting[];
  stdout: string;
  stderr: string;
  /** Set when replaced: its late lines are ignored, its waiters are answered already. */
  retired: boolean;
  /** Resolves at its 'close' (exited and its output read to the end). */
  readonly ended: Promise<void>;
}

const WORD = /^[^\s\0]+$/;

/** The most bytes a request line may hold before its newline (MAX_LINE - 1 of native/netlink-session.c). */
export const MAX_REQUEST_BYTES = 2047;

/** How long a request may wait for its answer before the helper counts as stuck. */
export const REQUEST_TIMEOUT_MS = 30_000;

export class NetlinkSession {
  private current: Helper | null = null;
  /** Every helper started that has not ended yet (a killed one until its 'close'). */
  private readonly live = new Set<Helper>();
  /** Set by `close`: a request after it fails at once instead of starting a helper nobody would close. */
  private closed = false;

  constructor(private readonly helper: string = NETLINK_HELPER, private readonly timeoutMs: number = REQUEST_TIMEOUT_MS) {}

  /** Why the session cannot run here, or null. */
  missing(): string | null {
    return existsSync(this.helper) ? null : `${this.helper} is not built: install a C compiler (apt-get install -y gcc make) and run npm run build`;
  }

  /** The running helper's PID, if one runs. */
  get pid(): number | undefined {
    return this.current?.child.pid;
  }

  attach(a: NetlinkAttach): Promise<void> {
    return this.request(['attach', a.netns, a.hostEnd, a.bridge, String(a.mtu), a.interface, a.mac, `${a.ip}/${a.prefix}`, a.gateway ?? '-', a.alias]);
  }

  /**
   * Deletes a host end (its peer goes with it); one already gone is no error. Given the alias its
   * attach wrote, a host end with another alias (another container's) is left alone.
   */
  detach(hostEnd: string, alias?: string): Promise<void> {
    return this.request(alias === undefined ? ['detach', hostEnd] : ['detach', hostEnd, alias]);
  }

  /**
   * Lets go of the namespace this session holds for the pair of host end `hostEnd` (an attach
   * holds it until then, or until the session ends); one not held is no error. Quick: the kernel
   * tears the namespace down in its own worker once nothing holds it. Given an alias, a hold made
   * by an attach with another alias (another container's) is kept.
   */
  release(hostEnd: string, alias?: string): Promise<void> {
    return this.request(alias === undefined ? ['release', hostEnd] : ['release', hostEnd, alias]);
  }

  /**
   * Ends the session for good: what is in flight fails, the helpers' stdin is closed (they exit at
   * its end), a later request fails at once (no helper is started again), and this waits until
   * they have exited (one still running after the request timeout is killed).
   */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.live];
    this.current = null;
    for (const h of all) {
      this.retire(h, new Error('netlink session closed'));
      h.child.stdin.end();
    }
    await Promise.all(all.map(async (h) => {
      const timer = setTimeout(() => h.child.kill('SIGKILL'), this.timeoutMs);
      await h.ended;
      clearTimeout(timer);
    }));
  }

  private request(words: readonly string[]): Promise<void> {
    const bad = words.find((w) => !WORD.test(w));
    if (bad !== undefined) return Promise.reject(new Error(`netlink session: ${JSON.stringify(bad)} is not one word`));
    const line = words.join(' ');
    if (Buffer.byteLength(line) > MAX_REQUEST_BYTES) return Promise.reject(new Error(`netlink session: a request of ${Buffer.byteLength(line)} bytes is longer than ${MAX_REQUEST_BYTES}: shorten its fields (${words[0]} ${words[1] ?? ''})`));
    if (this.closed) return Promise.reject(new Error(`netlink session: closed, "${words[0]}" not sent (the daemon is shutting down)`));
    let h: Helper;
    try {
      h = this.ensure();
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    return new Promise<void>((resolve, reject) => {
      const waiting: Waiting = { line, resolve, reject, timer: undefined };
      waiting.timer = setTimeout(() => this.timedOut(h, waiting), this.timeoutMs);
      h.waiting.push(waiting);
      h.child.stdin.write(`${line}\n`);
    });
  }

  /** A request not answered in time: it fails, the helper is killed (its PID) and the next request starts a new one. */
  private timedOut(h: Helper, waiting: Waiting): void {
    const at = h.waiting.indexOf(waiting);
    if (at === -1) return;
    h.waiting.splice(at, 1);
    const pid = h.child.pid;
    h.child.kill('SIGKILL');
    this.retire(h, new Error(`netlink session (${this.helper}) was restarted: an earlier request got no answer in ${this.timeoutMs} ms`));
    waiting.reject(new Error(`netlink session (${this.helper}): no answer to "${waiting.line.split(' ', 2).join(' ')}" in ${this.timeoutMs} ms: the helper (PID ${pid ?? '?'}) was killed and is started again on the next request`));
  }

  /** Takes a helper out of service: its waiters fail with `error`, its late lines are ignored. */
  private retire(h: Helper, error: Error): void {
    if (this.current === h) this.current = null;
    h.retired = true;
    for (const w of h.waiting.splice(0)) {
      clearTimeout(w.timer);
      w.reject(error);
    }
  }

  private ensure(): Helper {
    if (this.current) return this.current;
    const why = this.missing();
    if (why) throw new Error(why);
    const child = spawn(this.helper, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    let closed!: () => void;
    const h: Helper = { child, waiting: [], stdout: '', stderr: '', retired: false, ended: new Promise((resolve) => (closed = resolve)) };
    const died = (reason: string): void => {
      if (!h.retired) this.retire(h, new Error(`netlink session (${this.helper}) ended: ${h.stderr.trim() || reason}`));
    };
    child.on('error', (e) => {
      died(e.message);
      if (child.pid === undefined) {
        // never started: no 'close' to wait for
        this.live.delete(h);
        closed();
      }
    });
    // 'close', not 'exit': the answers still in its pipe are read first.
    child.on('close', (code, signal) => {
      died(`exit ${signal ?? code}`);
      this.live.delete(h);
      closed();
    });
    child.stdin.on('error', () => undefined); // a helper gone: its 'close' fails what waits, once its answers are read
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (h.stderr += chunk));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.answers(h, chunk));
    this.current = h;
    this.live.add(h);
    return h;
  }

  /** The answers of one helper, to its own waiters; those of a retired helper are dropped. */
  private answers(h: Helper, chunk: string): void {
    if (h.retired) return;
    h.stdout += chunk;
    let nl: number;
    while ((nl = h.stdout.indexOf('\n')) >= 0) {
      const line = h.stdout.slice(0, nl);
      h.stdout = h.stdout.slice(nl + 1);
      const waiting = h.waiting.shift();
      if (!waiting) continue;
      clearTimeout(waiting.timer);
      if (line === 'ok') {
        waiting.resolve();
        continue;
      }
      const m = /^error (\d+) (.*)$/.exec(line);
      waiting.reject(m ? new NetlinkError(Number(m[1]), m[2]!) : new Error(`netlink session: unexpected answer ${JSON.stringify(line)}`));
    }
  }
}
