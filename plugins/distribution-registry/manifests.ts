import { DistributionError, type Platform } from '../../core/plugin-api.js';

export const MediaTypes = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNonDistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
} as const;

/** What a manifest GET accepts, best first; schema 1 only to say clearly that it is refused. */
export const MANIFEST_ACCEPT = [
  MediaTypes.ociIndex, MediaTypes.dockerList, MediaTypes.ociManifest, MediaTypes.dockerManifest,
  MediaTypes.dockerSchema1Signed, MediaTypes.dockerSchema1,
].join(', ');

const LAYER_TYPES: ReadonlySet<string> = new Set([
  MediaTypes.dockerLayerGzip, MediaTypes.dockerForeignLayer, MediaTypes.ociLayer, MediaTypes.ociLayerGzip,
  MediaTypes.ociLayerNonDistributableGzip, 'application/vnd.oci.image.layer.nondistributable.v1.tar',
]);

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly platform?: Platform;
}

export type Manifest =
  | { readonly kind: 'index'; readonly mediaType: string; readonly manifests: readonly Descriptor[] }
  | { readonly kind: 'image'; readonly mediaType: string; readonly config: Descriptor; readonly layers: readonly Descriptor[] };

const DIGEST = /^sha256:[a-f0-9]{64}$/;

function descriptor(value: unknown, where: string): Descriptor {
  if (typeof value !== 'object' || value === null) throw new DistributionError(`${where} is not a descriptor`, 502);
  const d = value as Record<string, unknown>;
  if (typeof d.digest !== 'string' || !DIGEST.test(d.digest)) {
    throw new DistributionError(`${where} has the digest ${JSON.stringify(d.digest)}: only sha256 digests are supported`, 502);
  }
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw new DistributionError(`${where} has no valid size`, 502);
  const p = d.platform as Record<string, unknown> | undefined;
  const platform = p && typeof p.os === 'string' && typeof p.architecture === 'string'
    ? { os: p.os, architecture: p.architecture, ...(typeof p.variant === 'string' && p.variant !== '' ? { variant: p.variant } : {}) }
    : undefined;
  return { mediaType: typeof d.mediaType === 'string' ? d.mediaType : '', digest: d.digest, size: d.size, ...(platform ? { platform } : {}) };
}

/** Parses a manifest or index of Docker's schema 2 or OCI's; refuses schema 1 with the reason. */
export function parseManifest(bytes: Buffer, contentType: string | undefined, name: string): Manifest {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new DistributionError(`the manifest of ${name} is not JSON`, 502);
  }
  const headerType = (contentType ?? '').split(';')[0]!.trim();
  const mediaType = typeof doc.mediaType === 'string' && doc.mediaType !== '' ? doc.mediaType : headerType;
  if (doc.schemaVersion === 1 || mediaType === MediaTypes.dockerSchema1 || mediaType === MediaTypes.dockerSchema1Signed) {
    throw new DistributionError(`${name} is an image of Docker's manifest schema 1, which is deprecated and not supported: push it again with a current docker or skopeo (schema 2 or OCI)`, 400);
  }
  if (mediaType === MediaTypes.dockerList || mediaType === MediaTypes.ociIndex || (mediaType === '' && Array.isArray(doc.manifests))) {
    if (!Array.isArray(doc.manifests)) throw new DistributionError(`the index of ${name} lists no manifests`, 502);
    return { kind: 'index', mediaType: mediaType || MediaTypes.ociIndex, manifests: doc.manifests.map((m, i) => descriptor(m, `manifest ${i + 1} of the index of ${name}`)) };
  }
  if (mediaType === MediaTypes.dockerManifest || mediaType === MediaTypes.ociManifest || (mediaType === '' && doc.config !== undefined)) {
    if (!Array.isArray(doc.layers)) throw new DistributionError(`the manifest of ${name} lists no layers`, 502);
    return {
      kind: 'image', mediaType: mediaType || MediaTypes.ociManifest, config: descriptor(doc.config, `the config of ${name}`),
      layers: doc.layers.map((l, i) => descriptor(l, `layer ${i + 1} of ${name}`)),
    };
  }
  throw new DistributionError(`${name} is not an image (its manifest is ${JSON.stringify(mediaType)})`, 400);
}

/** "linux/arm64/v8" as Docker writes a platform. */
export function platformString(p: Platform): string {
  return [p.os, p.architecture, ...(p.variant ? [p.variant] : [])].join('/');
}

/** The default variant Docker assumes when an index does not say (arm64 → v8, arm → v7). */
function defaultVariant(architecture: string): string | undefined {
  return architecture === 'arm64' ? 'v8' : architecture === 'arm' ? 'v7' : undefined;
}

/**
 * The manifest of an index for the platform: same os and architecture, and the variant when one
 * is asked (an entry without a variant matches the architecture's default one). Attestation
 * entries (platform unknown/unknown) never match.
 */
export function selectPlatform(manifests: readonly Descriptor[], wanted: Platform, name: string): Descriptor {
  const candidates = manifests.filter((m) => m.platform && m.platform.os === wanted.os && m.platform.architecture === wanted.architecture);
  const variant = wanted.variant ?? defaultVariant(wanted.architecture);
  const exact = candidates.find((m) => (m.platform!.variant ?? defaultVariant(m.platform!.architecture)) === variant);
  const chosen = exact ?? (wanted.variant === undefined ? candidates[0] : undefined);
  if (!chosen) {
    const offered = manifests.filter((m) => m.platform && m.platform.os !== 'unknown').map((m) => platformString(m.platform!));
    throw new DistributionError(`no matching manifest for ${platformString(wanted)} in the manifest list entries of ${name} (it has ${offered.join(', ') || 'none'})`, 404);
  }
  return chosen;
}

/** Refuses layers this engine cannot unpack, before any byte is fetched. */
export function checkLayerType(layer: Descriptor, index: number, name: string): void {
  if (layer.mediaType.includes('zstd')) {
    throw new DistributionError(`layer ${index + 1} of ${name} is compressed with zstd (${layer.mediaType}), which this engine does not read: only gzip and plain tar layers`, 400);
  }
  if (layer.mediaType !== '' && !LAYER_TYPES.has(layer.mediaType)) {
    throw new DistributionError(`layer ${index + 1} of ${name} has the media type ${layer.mediaType}, which is not an image layer this engine reads`, 400);
  }
}

/** The config's `rootfs.diff_ids`, checked. */
export function diffIdsOf(config: Buffer, name: string): string[] {
  let doc: { rootfs?: { diff_ids?: unknown } };
  try {
    doc = JSON.parse(config.toString('utf8')) as typeof doc;
  } catch {
    throw new DistributionError(`the image config of ${name} is not JSON`, 502);
  }
  const ids = doc.rootfs?.diff_ids;
  if (!Array.isArray(ids) || !ids.every((d): d is string => typeof d === 'string' && DIGEST.test(d))) {
    throw new DistributionError(`the image config of ${name} has no valid rootfs.diff_ids`, 502);
  }
  return ids;
}
