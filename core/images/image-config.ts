import { createHash } from 'node:crypto';
import type { HistoryEntry, ImageConfig } from '../../events/index.js';

/**
 * An image's config blob, the OCI / Docker shape the image id is the digest of:
 * `{architecture, os, created, config: {Env, Cmd, ...}, rootfs: {type: "layers", diff_ids}, history}`.
 */
export interface ImageConfigDocument {
  readonly architecture: string;
  readonly os: string;
  /** RFC 3339, UTC. */
  readonly created: string;
  readonly config: ImageConfig;
  readonly rootfs: { readonly type: 'layers'; readonly diff_ids: readonly string[] };
  readonly history: readonly HistoryEntry[];
}

/** "sha256:<64 hex>": image ids, diff ids and blob digests. */
export const DIGEST_PATTERN = /^sha256:[a-f0-9]{64}$/;

/** Throws unless `digest` is "sha256:<64 lowercase hex>"; returns the hex part. */
export function digestHex(digest: string): string {
  if (!DIGEST_PATTERN.test(digest)) throw new Error(`invalid digest ${JSON.stringify(digest)}: expected sha256:<64 hex digits>`);
  return digest.slice('sha256:'.length);
}

export function sha256Digest(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function canonicalValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : canonicalValue(item)));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[key];
      if (item !== undefined) out[key] = canonicalValue(item);
    }
    return out;
  }
  return value;
}

/** JSON with object keys sorted at every level, no whitespace and no undefined members. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonicalValue(value));
}

/** The bytes an image config is stored as; the image id is their sha256. */
export function imageConfigBytes(config: ImageConfigDocument): Buffer {
  return Buffer.from(canonicalJson(config), 'utf8');
}

/** The image id: sha256 of the canonical config JSON ("sha256:<hex>"), the config blob's digest. */
export function imageIdFor(config: ImageConfigDocument): string {
  return sha256Digest(imageConfigBytes(config));
}

/** The OCI architecture name of a Node `process.arch` ("x64" → "amd64"). */
export function ociArchitecture(arch: string = process.arch): string {
  const names: Readonly<Record<string, string>> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return names[arch] ?? arch;
}

/**
 * The config of an image made from one imported tarball (`docker import`, `run /tmp/x.tar`): no
 * command, empty environment, one history entry naming the source. The same tar and `created`
 * give the same id; pass a fixed `created` (e.g. the epoch) when the id must stay stable.
 */
export function importedImageDocument(diffId: string, source: string, created: string): ImageConfigDocument {
  digestHex(diffId);
  return {
    architecture: ociArchitecture(),
    os: 'linux',
    created,
    config: { Env: [], Cmd: null, Entrypoint: null, WorkingDir: '', User: '', Labels: {} },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created, created_by: '', comment: `Imported from ${source}` }],
  };
}
