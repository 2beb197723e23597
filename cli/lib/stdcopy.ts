/**
 * Docker's stdcopy framing, as used by attach, exec and logs when the process has no tty:
 * `[type:1][0,0,0][length: uint32 big-endian][payload]`, type 1 = stdout, 2 = stderr,
 * 3 = a system error from the daemon (0 = stdin, never sent by servers).
 */

/** The Content-Type of a stream that is not framed (a tty's output, or API versions before 1.42). */
export const RAW_STREAM = 'application/vnd.docker.raw-stream';

/** Where demuxed output goes. */
export type OutputStream = 'stdout' | 'stderr';

const HEADER_LENGTH = 8;

/**
 * Splits a multiplexed byte stream into stdout and stderr payloads. Feed it chunks of any size
 * (a header or a payload may be split anywhere). For each chunk it calls `sink` once per run of
 * consecutive complete frames of the same stream, with their payloads joined: a log of 10,000
 * lines arrives in a few dozen chunks and leaves in as many writes, not 10,000.
 */
export class StdcopyDemuxer {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly sink: (stream: OutputStream, payload: Buffer) => void) {}

  /** Consumes bytes; throws on a system-error frame or an unknown stream type, like Docker's client. */
  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let run: OutputStream | undefined;
    let parts: Buffer[] = [];
    const flush = (): void => {
      if (run !== undefined && parts.length > 0) this.sink(run, parts.length === 1 ? parts[0]! : Buffer.concat(parts));
      parts = [];
    };
    try {
      while (this.pending.length >= HEADER_LENGTH) {
        const type = this.pending[0]!;
        const length = this.pending.readUInt32BE(4);
        if (this.pending.length < HEADER_LENGTH + length) return;
        const payload = this.pending.subarray(HEADER_LENGTH, HEADER_LENGTH + length);
        this.pending = this.pending.subarray(HEADER_LENGTH + length);
        let stream: OutputStream;
        switch (type) {
          case 0:
          case 1:
            stream = 'stdout';
            break;
          case 2:
            stream = 'stderr';
            break;
          case 3:
            flush();
            throw new Error(`error from daemon in stream: ${payload.toString('utf8')}`);
          default:
            flush();
            throw new Error(`Unrecognized input header: ${type}`);
        }
        if (stream !== run) {
          flush();
          run = stream;
        }
        if (payload.length > 0) parts.push(payload);
      }
    } finally {
      flush();
    }
  }

  /** Bytes of an incomplete frame still held back (an early end drops them, as Docker's client does). */
  get buffered(): number {
    return this.pending.length;
  }
}

/** Builds one frame; the daemon does this, the CLI needs it only in tests. */
export function encodeFrame(stream: OutputStream | 'system', payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(HEADER_LENGTH);
  header[0] = stream === 'stdout' ? 1 : stream === 'stderr' ? 2 : 3;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}
