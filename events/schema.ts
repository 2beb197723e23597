/** A tiny structural validator: enough to refuse malformed events on append and on read. */
export type Check = (value: unknown, path: string) => string | null;

const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

export const str: Check = (v, p) => (typeof v === 'string' ? null : `${p}: expected string, got ${kind(v)}`);
export const int: Check = (v, p) => (Number.isInteger(v) ? null : `${p}: expected integer, got ${kind(v)}`);
export const num: Check = (v, p) => (typeof v === 'number' && Number.isFinite(v) ? null : `${p}: expected number, got ${kind(v)}`);
export const bool: Check = (v, p) => (typeof v === 'boolean' ? null : `${p}: expected boolean, got ${kind(v)}`);
export const any: Check = () => null;
/** Exactly `false` (a flag whose absence means true). */
export const isFalse: Check = (v, p) => (v === false ? null : `${p}: expected false, got ${JSON.stringify(v)}`);
/** Exactly `true` (a flag whose absence means false). */
export const isTrue: Check = (v, p) => (v === true ? null : `${p}: expected true, got ${JSON.stringify(v)}`);

export const nullable = (c: Check): Check => (v, p) => (v === null ? null : c(v, p));
export const optional = (c: Check): Check => (v, p) => (v === undefined ? null : c(v, p));
export const oneOf = (...values: readonly string[]): Check => (v, p) =>
  typeof v === 'string' && values.includes(v) ? null : `${p}: expected one of ${values.join('|')}, got ${JSON.stringify(v)}`;

export const arrayOf = (c: Check): Check => (v, p) => {
  if (!Array.isArray(v)) return `${p}: expected array, got ${kind(v)}`;
  for (let i = 0; i < v.length; i++) {
    const err = c(v[i], `${p}[${i}]`);
    if (err) return err;
  }
  return null;
};

export const recordOf = (c: Check): Check => (v, p) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${p}: expected object, got ${kind(v)}`;
  for (const [k, x] of Object.entries(v)) {
    const err = c(x, `${p}.${k}`);
    if (err) return err;
  }
  return null;
};

export const obj = (fields: Readonly<Record<string, Check>>): Check => (v, p) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${p}: expected object, got ${kind(v)}`;
  const o = v as Record<string, unknown>;
  for (const [k, c] of Object.entries(fields)) {
    const err = c(o[k], `${p}.${k}`);
    if (err) return err;
  }
  return null;
};

export const sha256Id: Check = (v, p) =>
  typeof v === 'string' && /^sha256:[0-9a-f]{64}$/.test(v) ? null : `${p}: expected sha256:<64 hex>, got ${JSON.stringify(v)}`;
export const containerId: Check = (v, p) =>
  typeof v === 'string' && /^[0-9a-f]{64}$/.test(v) ? null : `${p}: expected 64 hex characters, got ${JSON.stringify(v)}`;

/** Any JSON value (no undefined, functions, NaN or Infinity). */
export const json: Check = (v, p) => {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return null;
  if (typeof v === 'number') return Number.isFinite(v) ? null : `${p}: expected a finite number`;
  if (Array.isArray(v)) return arrayOf(json)(v, p);
  if (typeof v === 'object') return recordOf(json)(v, p);
  return `${p}: expected a JSON value, got ${kind(v)}`;
};
