/**
 * The `X-Docker-Container-Path-Stat` header of `HEAD`/`GET /containers/{id}/archive`: base64 of
 * the JSON `{name, size, mode, mtime, linkTarget}`, where `mode` is Go's os.FileMode (permission
 * bits, and the file type and setuid/setgid/sticky as high bits), as the docker CLI decodes it.
 */
import type { BigIntStats } from 'node:fs';

export interface ContainerPathStat {
  readonly name: string;
  readonly size: number;
  /** Go's os.FileMode. */
  readonly mode: number;
  /** RFC 3339 with nanoseconds, as Go's time.Time in JSON. */
  readonly mtime: string;
  /** For a symlink: where it leads, resolved inside the container (absolute); "" otherwise. */
  readonly linkTarget: string;
}

export const PATH_STAT_HEADER = 'X-Docker-Container-Path-Stat';

/** Go's os.FileMode bits. */
export const GoMode = {
  dir: 2 ** 31,
  symlink: 2 ** 27,
  device: 2 ** 26,
  namedPipe: 2 ** 25,
  socket: 2 ** 24,
  setuid: 2 ** 23,
  setgid: 2 ** 22,
  charDevice: 2 ** 21,
  sticky: 2 ** 20,
} as const;

const S_IFMT = 0o170000;

/** A Unix st_mode as Go's os.FileMode (what os.Lstat(...).Mode() gives). */
export function goFileMode(unixMode: number): number {
  let mode = unixMode & 0o777;
  switch (unixMode & S_IFMT) {
    case 0o040000: mode += GoMode.dir; break;
    case 0o120000: mode += GoMode.symlink; break;
    case 0o020000: mode += GoMode.device + GoMode.charDevice; break;
    case 0o060000: mode += GoMode.device; break;
    case 0o010000: mode += GoMode.namedPipe; break;
    case 0o140000: mode += GoMode.socket; break;
    default: break;
  }
  if (unixMode & 0o4000) mode += GoMode.setuid;
  if (unixMode & 0o2000) mode += GoMode.setgid;
  if (unixMode & 0o1000) mode += GoMode.sticky;
  return mode;
}

export function isGoDir(mode: number): boolean {
  return Math.floor(mode / GoMode.dir) % 2 === 1;
}

export function isGoSymlink(mode: number): boolean {
  return Math.floor(mode / GoMode.symlink) % 2 === 1;
}

const TYPE_BITS = [GoMode.dir, GoMode.symlink, GoMode.namedPipe, GoMode.socket, GoMode.device, GoMode.charDevice, 2 ** 19];

/** True for a regular file (no type bit set), as Go's FileMode.IsRegular. */
export function isGoRegular(mode: number): boolean {
  return TYPE_BITS.every((bit) => Math.floor(mode / bit) % 2 === 0);
}

/** Go's RFC3339Nano in UTC: "2026-12-07T05:11:54.123456789Z", trailing zeros of the fraction dropped. */
export function rfc3339Nano(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  const fraction = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return `${base}${fraction === '' ? '' : `.${fraction}`}Z`;
}

/** The stat of a path, from lstat with bigint numbers (for the nanoseconds of mtime). */
export function pathStatOf(name: string, stats: Pick<BigIntStats, 'size' | 'mode' | 'mtimeNs'> | { readonly size: number; readonly mode: number; readonly mtimeNs: bigint }, linkTarget: string): ContainerPathStat {
  return { name, size: Number(stats.size), mode: goFileMode(Number(stats.mode)), mtime: rfc3339Nano(stats.mtimeNs), linkTarget };
}

export function encodePathStat(stat: ContainerPathStat): string {
  return Buffer.from(JSON.stringify(stat)).toString('base64');
}

/** Reads the header back (the CLI); throws a one-line error on a malformed one. */
export function decodePathStat(header: string): ContainerPathStat {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(header, 'base64').toString('utf8'));
  } catch {
    throw new Error(`unable to decode container path stat header: ${header.slice(0, 80)}`);
  }
  if (typeof value !== 'object' || value === null) throw new Error('unable to decode container path stat header: not an object');
  const record = value as Record<string, unknown>;
  const name = record.name;
  const size = record.size;
  const mode = record.mode;
  const mtime = record.mtime;
  const linkTarget = record.linkTarget;
  if (typeof name !== 'string' || typeof size !== 'number' || typeof mode !== 'number' || typeof mtime !== 'string' || (linkTarget !== undefined && typeof linkTarget !== 'string')) {
    throw new Error('unable to decode container path stat header: fields missing');
  }
  return { name, size, mode, mtime, linkTarget: linkTarget ?? '' };
}
