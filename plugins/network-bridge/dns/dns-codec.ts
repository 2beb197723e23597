/**
 * A small DNS wire codec (RFC 1035): enough to read a query, answer A/AAAA questions, and read an
 * answer back (tests, forwarding). Names in answers point at the question (compression pointer
 * 0xc00c); names read follow compression pointers, with a bound against loops.
 */

export const TYPE_A = 1;
export const TYPE_PTR = 12;
export const TYPE_AAAA = 28;
export const CLASS_IN = 1;
export const RCODE_NOERROR = 0;
export const RCODE_FORMERR = 1;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;

export interface Question {
  readonly name: string;
  readonly type: number;
  readonly class: number;
}

export interface ResourceRecord {
  readonly name: string;
  readonly type: number;
  readonly class: number;
  readonly ttl: number;
  readonly data: Buffer;
}

export interface DnsMessage {
  readonly id: number;
  /** QR, opcode, AA, TC, RD, RA, rcode as the 16-bit flags word. */
  readonly flags: number;
  readonly questions: readonly Question[];
  readonly answers: readonly ResourceRecord[];
}

export class DnsFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DnsFormatError';
  }
}

export const rcodeOf = (message: Pick<DnsMessage, 'flags'>): number => message.flags & 0xf;
export const isResponse = (message: Pick<DnsMessage, 'flags'>): boolean => (message.flags & 0x8000) !== 0;

function readName(buf: Buffer, start: number): { name: string; next: number } {
  const labels: string[] = [];
  let at = start;
  let next = -1;
  for (let jumps = 0; ; ) {
    if (at >= buf.length) throw new DnsFormatError('name runs past the end of the message');
    const len = buf[at]!;
    if (len === 0) {
      if (next < 0) next = at + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (at + 1 >= buf.length) throw new DnsFormatError('truncated compression pointer');
      if (++jumps > 32) throw new DnsFormatError('compression pointers loop');
      if (next < 0) next = at + 2;
      at = ((len & 0x3f) << 8) | buf[at + 1]!;
      continue;
    }
    if ((len & 0xc0) !== 0) throw new DnsFormatError(`unsupported label type 0x${len.toString(16)}`);
    if (at + 1 + len > buf.length) throw new DnsFormatError('label runs past the end of the message');
    labels.push(buf.toString('latin1', at + 1, at + 1 + len));
    at += 1 + len;
  }
  return { name: labels.join('.'), next };
}

function writeName(name: string): Buffer {
  const parts: Buffer[] = [];
  for (const label of name.replace(/\.$/, '').split('.').filter((l) => l !== '')) {
    const bytes = Buffer.from(label, 'latin1');
    if (bytes.length > 63) throw new DnsFormatError(`label longer than 63 bytes in ${name}`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** Reads a whole message (header, questions, answers; authority and additional records are skipped). */
export function decodeMessage(buf: Buffer): DnsMessage {
  if (buf.length < 12) throw new DnsFormatError('message shorter than its 12-byte header');
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  const qd = buf.readUInt16BE(4);
  const an = buf.readUInt16BE(6);
  let at = 12;
  const questions: Question[] = [];
  for (let i = 0; i < qd; i++) {
    const { name, next } = readName(buf, at);
    if (next + 4 > buf.length) throw new DnsFormatError('truncated question');
    questions.push({ name, type: buf.readUInt16BE(next), class: buf.readUInt16BE(next + 2) });
    at = next + 4;
  }
  const answers: ResourceRecord[] = [];
  for (let i = 0; i < an; i++) {
    const { name, next } = readName(buf, at);
    if (next + 10 > buf.length) throw new DnsFormatError('truncated resource record');
    const length = buf.readUInt16BE(next + 8);
    if (next + 10 + length > buf.length) throw new DnsFormatError('resource record data runs past the end');
    answers.push({
      name, type: buf.readUInt16BE(next), class: buf.readUInt16BE(next + 2), ttl: buf.readUInt32BE(next + 4),
      data: buf.subarray(next + 10, next + 10 + length),
    });
    at = next + 10 + length;
  }
  return { id, flags, questions, answers };
}

/** A query with one question and recursion desired. */
export function encodeQuery(id: number, name: string, type: number): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // RD
  header.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(CLASS_IN, 2);
  return Buffer.concat([header, writeName(name), tail]);
}

/**
 * The answer to `query` (its first question): the given records (all for the question's name),
 * authoritative, recursion available, with `rcode`.
 */
export function encodeResponse(query: DnsMessage, records: readonly { type: number; ttl: number; data: Buffer }[], rcode: number): Buffer {
  const question = query.questions[0];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.id, 0);
  const rd = query.flags & 0x0100;
  header.writeUInt16BE(0x8000 | 0x0400 | rd | 0x0080 | (rcode & 0xf), 2); // QR AA RD RA rcode
  header.writeUInt16BE(question ? 1 : 0, 4);
  header.writeUInt16BE(question ? records.length : 0, 6);
  if (!question) return header;
  const q = Buffer.alloc(4);
  q.writeUInt16BE(question.type, 0);
  q.writeUInt16BE(question.class, 2);
  const parts = [header, writeName(question.name), q];
  for (const r of records) {
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0); // the question's name
    rr.writeUInt16BE(r.type, 2);
    rr.writeUInt16BE(CLASS_IN, 4);
    rr.writeUInt32BE(r.ttl, 6);
    rr.writeUInt16BE(r.data.length, 10);
    parts.push(rr, r.data);
  }
  return Buffer.concat(parts);
}

/** The four bytes of an A record. */
export function aRecordData(ip: string): Buffer {
  return Buffer.from(ip.split('.').map(Number));
}

/** The dotted address of an A record's data. */
export function aRecordAddress(data: Buffer): string {
  return [...data.subarray(0, 4)].join('.');
}

/** Only the id of a message (to pair forwarded answers with their queries). */
export function withId(message: Buffer, id: number): Buffer {
  const copy = Buffer.from(message);
  copy.writeUInt16BE(id, 0);
  return copy;
}
