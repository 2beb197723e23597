import { InvalidArgumentError } from '../engine/errors.js';

/**
 * Narrowing helpers for JSON request bodies: parse into `unknown`, then read each field with the
 * type it must have. A field of the wrong type is a 400 naming the field; a missing or null field
 * is `undefined` (Docker clients send the full structure with most of it null or zero).
 */
export type JsonObject = { readonly [key: string]: unknown };

export function isRecord(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses a JSON body; an empty body is `{}`. Throws a 400 for malformed JSON or a non-object. */
export function parseJsonObject(body: Buffer, what = 'request body'): JsonObject {
  const text = body.toString('utf8').trim();
  if (text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`invalid JSON in ${what}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (value === null) return {};
  if (!isRecord(value)) throw new InvalidArgumentError(`${what} must be a JSON object`);
  return value;
}

function wrongType(key: string, expected: string): never {
  throw new InvalidArgumentError(`invalid value for ${key}: expected ${expected}`);
}

export function optString(obj: JsonObject, key: string): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : wrongType(key, 'a string');
}

export function optBool(obj: JsonObject, key: string): boolean | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  return typeof v === 'boolean' ? v : wrongType(key, 'a boolean');
}

export function optNumber(obj: JsonObject, key: string): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  return typeof v === 'number' && Number.isFinite(v) ? v : wrongType(key, 'a number');
}

/** A string array; a lone string is accepted as a one-element array (Docker's strslice). */
export function optStringArray(obj: JsonObject, key: string): string[] | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x): x is string => typeof x === 'string')) return [...v];
  return wrongType(key, 'an array of strings');
}

export function optObject(obj: JsonObject, key: string): JsonObject | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  return isRecord(v) ? v : wrongType(key, 'an object');
}

export function optStringMap(obj: JsonObject, key: string): Record<string, string> | undefined {
  const v = optObject(obj, key);
  if (v === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string') wrongType(`${key}.${k}`, 'a string');
    out[k] = x;
  }
  return out;
}

/** A pair of numbers such as ConsoleSize `[rows, cols]`. */
export function optNumberPair(obj: JsonObject, key: string): [number, number] | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v) && v.length === 2 && v.every((x): x is number => typeof x === 'number' && Number.isFinite(x))) {
    return [v[0]!, v[1]!];
  }
  return wrongType(key, 'two numbers');
}
