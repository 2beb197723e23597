/**
 * The bridge driver's long-lived rtnetlink session: `mini-docker-netlink` (native/netlink-session.c,
 * built by `npm run build` into dist/plugins/network-bridge/bin), started on first use and kept,
 * so that wiring a container costs two netlink batches inside that process instead of starting
 * `nsenter` and `ip` (two execs and iproute2's libraries, 5-10 ms of a start under load). Requests go
 * one per line and are answered one per line in order, so several can be in flight (concurrent
 * starts): each waits for its own answer. A session that dies fails what was in flight with its
 * stderr and is started again on the next request.
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

/** One veth pair: the host end on the bridge, its peer inside the namespace at `netns` with the address and, given a gateway, the default route. */
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
  resolve(): void;
  reject(e: Error): void;
}

const WORD = /^[^\s]+$/;

export class NetlinkSession {
  private child: ChildProcessWithoutNullStreams | null = null;
  private readonly waiting: Waiting[] = [];
  private stdout = '';
  private stderr = '';

  constructor(private readonly helper: string = NETLINK_HELPER) {}

  /** Why the session cannot run here, or null. */
  missing(): string | null {
    return existsSync(this.helper) ? null : `${this.helper} is not built: install a C compiler (apt-get install -y gcc make) and run npm run build`;
  }

  attach(a: NetlinkAttach): Promise<void> {
    return this.request(['attach', a.netns, a.hostEnd, a.bridge, String(a.mtu), a.interface, a.mac, `${a.ip}/${a.prefix}`, a.gateway ?? '-', a.alias]);
  }

  /** Deletes a host end (its peer goes with it); one already gone is no error. */
  detach(hostEnd: string): Promise<void> {
    return this.request(['detach', hostEnd]);
  }

  /** Ends the session: the helper exits when its stdin closes; what is in flight fails. */
  close(): void {
    const child = this.child;
    this.child = null;
    child?.stdin.end();
    this.failAll(new Error('netlink session closed'));
  }

  private request(words: readonly string[]): Promise<void> {
    const bad = words.find((w) => !WORD.test(w));
    if (bad !== undefined) return Promise.reject(new Error(`netlink session: ${JSON.stringify(bad)} is not one word`));
    let child: ChildProcessWithoutNullStreams;
    try {
      child = this.ensure();
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      child.stdin.write(`${words.join(' ')}\n`);
    });
  }

  private ensure(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    const why = this.missing();
    if (why) throw new Error(why);
    const child = spawn(this.helper, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.stdout = '';
    this.stderr = '';
    const died = (reason: string): void => {
      if (this.child !== child) return;
      this.child = null;
      this.failAll(new Error(`netlink session (${this.helper}) ended: ${this.stderr.trim() || reason}`));
    };
    child.on('error', (e) => died(e.message));
    child.on('exit', (code, signal) => died(`exit ${signal ?? code}`));
    child.stdin.on('error', (e) => died(e.message));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (this.stderr += chunk));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.answers(chunk));
    this.child = child;
    return child;
  }

  private answers(chunk: string): void {
    this.stdout += chunk;
    let nl: number;
    while ((nl = this.stdout.indexOf('\n')) >= 0) {
      const line = this.stdout.slice(0, nl);
      this.stdout = this.stdout.slice(nl + 1);
      const waiting = this.waiting.shift();
      if (!waiting) continue;
      if (line === 'ok') {
        waiting.resolve();
        continue;
      }
      const m = /^error (\d+) (.*)$/.exec(line);
      waiting.reject(m ? new NetlinkError(Number(m[1]), m[2]!) : new Error(`netlink session: unexpected answer ${JSON.stringify(line)}`));
    }
  }

  private failAll(e: Error): void {
    for (const w of this.waiting.splice(0)) w.reject(e);
  }
}
