/**
 * Docker's stdcopy framing for non-TTY streams (attach, exec, logs): each payload is preceded by an
 * 8-byte header `[type, 0, 0, 0, length as uint32 big-endian]`. Type 1 is stdout, 2 stderr, and 3 a
 * system error that the client raises as `error from daemon in stream: <payload>`.
 */
export const StdStream = { stdin: 0, stdout: 1, stderr: 2, systemError: 3 } as const;
export type StdStreamType = (typeof StdStream)[keyof typeof StdStream];

/** The largest payload put in one frame; bigger payloads are split. */
const MAX_FRAME = 1 << 20;

/** One or more frames carrying `payload` on `stream` (nothing for an empty payload). */
export function frame(stream: StdStreamType, payload: Buffer | string): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  if (data.length === 0) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += MAX_FRAME) {
    const chunk = data.subarray(offset, Math.min(offset + MAX_FRAME, data.length));
    const header = Buffer.alloc(8);
    header[0] = stream;
    header.writeUInt32BE(chunk.length, 4);
    parts.push(header, chunk);
  }
  return Buffer.concat(parts);
}

/** The frame type of an output chunk's stream name. */
export function streamType(name: 'stdout' | 'stderr'): StdStreamType {
  return name === 'stderr' ? StdStream.stderr : StdStream.stdout;
}

/** Splits framed bytes back into payloads (tests and clients); a trailing partial frame is returned as `rest`. */
export function parseFrames(data: Buffer): { frames: { stream: number; payload: Buffer }[]; rest: Buffer } {
  const frames: { stream: number; payload: Buffer }[] = [];
  let offset = 0;
  while (data.length - offset >= 8) {
    const length = data.readUInt32BE(offset + 4);
    if (data.length - offset - 8 < length) break;
    frames.push({ stream: data[offset]!, payload: data.subarray(offset + 8, offset + 8 + length) });
    offset += 8 + length;
  }
  return { frames, rest: data.subarray(offset) };
}
