import { isUtf8 } from 'node:buffer';
import type { LogEntry } from '../../core/plugin-api.js';

/** A stored entry with the output offset it ends at. */
import type { StoredLogEntry as StoredEntry } from '../../core/plugin-api.js';
export type { StoredEntry };

const SPECIAL_UTF8 = /[\\\p{Cc}]/gu; // C0 controls, DEL, C1 controls and the backslash
const ESCAPE = /\\(\\|n|r|x[0-9a-f]{2})/g;

/**
 * `<time> <stream> <offset> <text>\n`, e.g. `2026-01-02T03:04:05.1Z stdout 6 hello\n`.
 * The text is escaped so that one chunk stays one line and its bytes come back exactly:
 * `\\`, `\n`, `\r`, other control bytes and (when the chunk is not valid UTF-8) bytes >= 0x80 as `\xNN`.
 * Tabs stay as they are. The offset (the shim's output offset after the chunk) makes exactly-once work.
 */
export function encodeTextLogLine(entry: LogEntry, offset: number): Buffer {
  return Buffer.from(`${entry.time} ${entry.stream} ${offset} ${escapeBytes(entry.data)}\n`, 'utf8');
}

/** Parses one line (without its newline); undefined when it is not a complete record. */
export function decodeTextLogLine(line: string): StoredEntry | undefined {
  const a = line.indexOf(' ');
  const b = line.indexOf(' ', a + 1);
  const c = line.indexOf(' ', b + 1);
  if (a <= 0 || b < 0 || c < 0) return undefined;
  const stream = line.slice(a + 1, b);
  const offset = Number(line.slice(b + 1, c));
  if ((stream !== 'stdout' && stream !== 'stderr') || !Number.isSafeInteger(offset)) return undefined;
  return { entry: { time: line.slice(0, a), stream, data: unescapeText(line.slice(c + 1)) }, offset };
}

function escapeBytes(data: Buffer): string {
  if (isUtf8(data)) {
    return data.toString('utf8').replace(SPECIAL_UTF8, (ch) => {
      const code = ch.charCodeAt(0);
      return code >= 0x80 ? ch : escapeByte(code); // C1 controls are two bytes in UTF-8: keep them
    });
  }
  let out = '';
  for (const byte of data) out += byte >= 0x20 && byte < 0x7f && byte !== 0x5c ? String.fromCharCode(byte) : escapeByte(byte);
  return out;
}

function escapeByte(byte: number): string {
  if (byte === 0x5c) return '\\\\';
  if (byte === 0x0a) return '\\n';
  if (byte === 0x0d) return '\\r';
  if (byte === 0x09) return '\t';
  return `\\x${byte.toString(16).padStart(2, '0')}`;
}

function unescapeText(text: string): Buffer {
  if (!text.includes('\\')) return Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  let at = 0;
  for (const m of text.matchAll(ESCAPE)) {
    parts.push(Buffer.from(text.slice(at, m.index), 'utf8'));
    const code = m[1]!;
    parts.push(Buffer.of(code === '\\' ? 0x5c : code === 'n' ? 0x0a : code === 'r' ? 0x0d : parseInt(code.slice(1), 16)));
    at = m.index + m[0].length;
  }
  parts.push(Buffer.from(text.slice(at), 'utf8'));
  return Buffer.concat(parts);
}
