import { InvalidArgumentError } from '../engine/errors.js';
import { isRecord } from './narrow.js';

/** The newest API version this server speaks (advertised in `Api-Version`). */
export const API_VERSION = '1.50';
/** The oldest API version accepted in a `/v1.NN` prefix (moby's MinAPIVersion). */
export const MIN_API_VERSION = '1.24';

/** Compares "1.41" and "1.9" numerically, part by part. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/**
 * Strips an optional `/v1.NN` prefix. Unversioned paths get the default version; a version outside
 * MIN_API_VERSION..API_VERSION is a 400 with moby's message.
 */
export function splitVersion(path: string): { version: string; path: string } {
  const m = /^\/v(\d+\.\d+)(\/.*)?$/.exec(path);
  if (!m) return { version: API_VERSION, path };
  const version = m[1]!;
  if (compareVersions(version, MIN_API_VERSION) < 0) {
    throw new InvalidArgumentError(`client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
  }
  if (compareVersions(version, API_VERSION) > 0) {
    throw new InvalidArgumentError(`client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
  }
  return { version, path: m[2] ?? '/' };
}

/**
 * A boolean query parameter the way moby reads it: absent → `fallback`; "", "0", "no", "false",
 * "none" → false; anything else (the CLI's "1", dockerode's "true") → true.
 */
export function queryBool(query: URLSearchParams, key: string, fallback = false): boolean {
  const raw = query.get(key);
  if (raw === null) return fallback;
  const v = raw.trim().toLowerCase();
  return !(v === '' || v === '0' || v === 'no' || v === 'false' || v === 'none');
}

/** An integer query parameter; absent or empty → undefined; not an integer → 400. */
export function queryInt(query: URLSearchParams, key: string): number | undefined {
  const raw = query.get(key);
  if (raw === null || raw.trim() === '') return undefined;
  if (!/^[+-]?\d+$/.test(raw.trim())) throw new InvalidArgumentError(`invalid value for ${key}: ${raw}: expected an integer`);
  return Number(raw.trim());
}

/** A non-empty string query parameter, or undefined. */
export function queryString(query: URLSearchParams, key: string): string | undefined {
  const raw = query.get(key);
  return raw === null || raw === '' ? undefined : raw;
}

/** Docker filters: each key with the values asked for. */
export type Filters = ReadonlyMap<string, readonly string[]>;

/**
 * Parses the `filters` query parameter: the map form `{"status":{"exited":true}}` or the legacy
 * list form `{"status":["exited"]}` (API < 1.22 clients, and the CLI at 1.12). Empty → no filters.
 */
export function parseFilters(raw: string | null): Filters {
  const out = new Map<string, string[]>();
  if (raw === null || raw.trim() === '') return out;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new InvalidArgumentError(`invalid filter: ${raw}`);
  }
  if (!isRecord(value)) throw new InvalidArgumentError(`invalid filter: ${raw}`);
  for (const [key, v] of Object.entries(value)) {
    if (Array.isArray(v) && v.every((x): x is string => typeof x === 'string')) {
      out.set(key, [...v]);
    } else if (isRecord(v)) {
      out.set(key, Object.entries(v).filter(([, on]) => on === true).map(([k]) => k));
    } else {
      throw new InvalidArgumentError(`invalid filter: ${key}`);
    }
  }
  return out;
}

/** Rejects filter keys this endpoint does not know, like moby ("invalid filter 'x'"). */
export function checkFilterKeys(filters: Filters, allowed: readonly string[]): void {
  for (const key of filters.keys()) {
    if (!allowed.includes(key)) throw new InvalidArgumentError(`invalid filter '${key}'`);
  }
}
