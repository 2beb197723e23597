/**
 * The embedded resolver of one network: UDP and TCP on <address>:<port> (the bridge's gateway, port
 * 53). A/AAAA questions for a name the network knows (container names, aliases, short ids, from the
 * fold through `lookup`) are answered here; any other question is forwarded over UDP to the
 * upstreams in turn (the daemon's `--dns`), and SERVFAIL comes back when none answers.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import {
  CLASS_IN, DnsFormatError, RCODE_FORMERR, RCODE_NOERROR, RCODE_SERVFAIL, TYPE_A, TYPE_AAAA, aRecordData, decodeMessage,
  encodeResponse, withId, type DnsMessage,
} from './dns-codec.js';

/** An upstream server: "10.0.0.53" or "127.0.0.1:5353". */
export interface Upstream {
  readonly host: string;
  readonly port: number;
}

export function parseUpstream(text: string): Upstream {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/.exec(text);
  if (!m) throw new Error(`invalid DNS server ${JSON.stringify(text)}: expected an IPv4 address, optionally with :port`);
  return { host: m[1]!, port: m[2] ? Number(m[2]) : 53 };
}

export interface ResolverOptions {
  readonly address: string;
  readonly port: number;
  readonly upstreams: readonly Upstream[];
  /** The addresses of `name` for a client at `from` on this network (empty: not ours). */
  readonly lookup: (name: string, from?: string) => readonly string[];
  /** How long one upstream gets before the next is tried. */
  readonly upstreamTimeoutMs?: number;
  readonly onError?: (message: string) => void;
}

const TTL = 600; // Docker's embedded resolver answers with 600 seconds

export class EmbeddedResolver {
  private udp: UdpSocket | null = null;
  private tcp: Server | null = null;
  private readonly connections = new Set<Socket>();
  private readonly pending = new Set<UdpSocket>();

  constructor(private readonly options: ResolverOptions) {}

  get address(): string {
    return `${this.options.address}:${this.options.port}`;
  }

  async start(): Promise<void> {
    const udp = createSocket({ type: 'udp4' });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(this.options.port, this.options.address, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    udp.on('error', (e) => this.options.onError?.(`resolver ${this.address} (udp): ${e.message}`));
    udp.on('message', (msg, rinfo) => {
      void this.answer(msg, rinfo.address).then((reply) => {
        if (reply && this.udp === udp) udp.send(reply, rinfo.port, rinfo.address); // not after stop()
      });
    });
    this.udp = udp;
    const tcp = createServer((socket) => this.serveTcp(socket));
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(this.options.port, this.options.address, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      udp.close();
      this.udp = null;
      throw e;
    }
    this.tcp = tcp;
  }

  async stop(): Promise<void> {
    for (const s of this.pending) s.close();
    this.pending.clear();
    for (const c of this.connections) c.destroy();
    this.connections.clear();
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = null;
    this.tcp = null;
    if (udp) await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (tcp) await new Promise<void>((resolve) => tcp.close(() => resolve()));
  }

  /** The reply to one query message, or null when it cannot be answered at all (not even FORMERR). */
  async answer(msg: Buffer, from?: string): Promise<Buffer | null> {
    let query: DnsMessage;
    try {
      query = decodeMessage(msg);
    } catch (e) {
      if (e instanceof DnsFormatError && msg.length >= 12) {
        return encodeResponse({ id: msg.readUInt16BE(0), flags: msg.readUInt16BE(2), questions: [], answers: [] }, [], RCODE_FORMERR);
      }
      return null;
    }
    const question = query.questions[0];
    if (!question || query.questions.length !== 1 || (query.flags & 0x8000) !== 0) return encodeResponse(query, [], RCODE_FORMERR);
    if (question.class === CLASS_IN && (question.type === TYPE_A || question.type === TYPE_AAAA)) {
      const addresses = this.options.lookup(question.name, from);
      if (addresses.length > 0) {
        // ours: A records; an AAAA question gets "no such record" (NOERROR, nothing), not a forward
        const records = question.type === TYPE_A ? addresses.map((ip) => ({ type: TYPE_A, ttl: TTL, data: aRecordData(ip) })) : [];
        return encodeResponse(query, records, RCODE_NOERROR);
      }
    }
    return (await this.forward(msg, query.id)) ?? encodeResponse(query, [], RCODE_SERVFAIL);
  }

  private async forward(msg: Buffer, id: number): Promise<Buffer | null> {
    for (const upstream of this.options.upstreams) {
      const reply = await this.askUpstream(msg, id, upstream);
      if (reply) return reply;
    }
    return null;
  }

  private askUpstream(msg: Buffer, id: number, upstream: Upstream): Promise<Buffer | null> {
    return new Promise((resolve) => {
      const socket = createSocket({ type: 'udp4' });
      this.pending.add(socket);
      const ownId = Math.floor(Math.random() * 0x10000);
      let done = false;
      const finish = (reply: Buffer | null): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.pending.delete(socket);
        try { socket.close(); } catch { /* closed by stop() */ }
        resolve(reply);
      };
      const timer = setTimeout(() => finish(null), this.options.upstreamTimeoutMs ?? 2000);
      socket.on('error', () => finish(null)); // refused (ICMP), unreachable: the next upstream
      socket.on('close', () => finish(null));
      socket.on('message', (reply) => {
        if (reply.length >= 12 && reply.readUInt16BE(0) === ownId) finish(withId(reply, id));
      });
      socket.connect(upstream.port, upstream.host, () => socket.send(withId(msg, ownId)));
    });
  }

  /** TCP: each message is preceded by its 2-byte length (RFC 1035 4.2.2). */
  private serveTcp(socket: Socket): void {
    this.connections.add(socket);
    socket.on('close', () => this.connections.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (buffered.length < 2 + length) break;
        const msg = buffered.subarray(2, 2 + length);
        buffered = buffered.subarray(2 + length);
        void this.answer(Buffer.from(msg), socket.remoteAddress?.replace(/^::ffff:/, '')).then((reply) => {
          if (!reply || socket.destroyed) return;
          const prefix = Buffer.alloc(2);
          prefix.writeUInt16BE(reply.length, 0);
          socket.write(Buffer.concat([prefix, reply]));
        });
      }
    });
  }
}
