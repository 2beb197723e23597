import type { HistoryEntry, ImageConfig } from '../../events/index.js';
import { ArchiveFiles, IMAGE_NAME_ANNOTATION, ImageArchiveError, REF_NAME_ANNOTATION, type Descriptor } from './archive-documents.js';
import { DIGEST_PATTERN } from './image-config.js';
import { InvalidReferenceError, parseReference } from './image-reference.js';

// ---------------------------------------------------------------------------------------------
// Reading: parsing the documents (pure).
// ---------------------------------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function parseJson(data: Buffer, what: string): Json {
  try {
    return JSON.parse(data.toString('utf8')) as Json;
  } catch (error) {
    throw new ImageArchiveError(`${what} is not valid JSON: ${(error as Error).message}`);
  }
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function objectAt(value: Json | undefined, what: string): JsonObject {
  if (!isObject(value)) throw new ImageArchiveError(`${what}: expected an object`);
  return value;
}

function stringAt(value: Json | undefined, what: string): string {
  if (typeof value !== 'string') throw new ImageArchiveError(`${what}: expected a string`);
  return value;
}

function optionalString(value: Json | undefined, what: string): string | undefined {
  return value === undefined || value === null ? undefined : stringAt(value, what);
}

function stringsAt(value: Json | undefined, what: string, nullable = false): string[] {
  if ((value === null || value === undefined) && nullable) return [];
  if (!Array.isArray(value)) throw new ImageArchiveError(`${what}: expected an array of strings`);
  return value.map((item, i) => stringAt(item, `${what}[${i}]`));
}

function nullableStrings(value: Json | undefined, what: string): string[] | null {
  return value === null || value === undefined ? null : stringsAt(value, what);
}

function stringRecord(value: Json | undefined, what: string): Record<string, string> {
  if (value === null || value === undefined) return {};
  const obj = objectAt(value, what);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = stringAt(v, `${what}.${k}`);
  return out;
}

function descriptorAt(value: Json | undefined, what: string): Descriptor {
  const obj = objectAt(value, what);
  const size = obj.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new ImageArchiveError(`${what}.size: expected a byte count`);
  const platform = isObject(obj.platform)
    ? {
      architecture: stringAt(obj.platform.architecture, `${what}.platform.architecture`),
      os: stringAt(obj.platform.os, `${what}.platform.os`),
      ...(typeof obj.platform.variant === 'string' ? { variant: obj.platform.variant } : {}),
    }
    : undefined;
  return {
    mediaType: optionalString(obj.mediaType, `${what}.mediaType`) ?? '',
    digest: stringAt(obj.digest, `${what}.digest`),
    size,
    ...(obj.annotations !== undefined && obj.annotations !== null ? { annotations: stringRecord(obj.annotations, `${what}.annotations`) } : {}),
    ...(platform ? { platform } : {}),
  };
}

/** One entry of a docker-archive's manifest.json. */
export interface DockerArchiveEntry {
  /** Path of the config in the archive ("blobs/sha256/<hex>", or "<hex>.json" before docker 25). */
  readonly config: string;
  readonly repoTags: readonly string[];
  /** Paths of the layer tars, bottom first ("blobs/sha256/<hex>", or "<v1 id>/layer.tar"). */
  readonly layers: readonly string[];
}

/** Parses a docker-archive's manifest.json. */
export function parseDockerManifest(data: Buffer): DockerArchiveEntry[] {
  const json = parseJson(data, ArchiveFiles.dockerManifest);
  if (!Array.isArray(json)) throw new ImageArchiveError(`${ArchiveFiles.dockerManifest}: expected an array`);
  return json.map((item, i) => {
    const what = `${ArchiveFiles.dockerManifest}[${i}]`;
    const obj = objectAt(item, what);
    return {
      config: stringAt(obj.Config, `${what}.Config`),
      repoTags: stringsAt(obj.RepoTags, `${what}.RepoTags`, true),
      layers: stringsAt(obj.Layers, `${what}.Layers`, true),
    };
  });
}

/** Parses an OCI image index (index.json) or a Docker manifest list: its manifests. */
export function parseOciIndex(data: Buffer, what: string = ArchiveFiles.ociIndex): Descriptor[] {
  const obj = objectAt(parseJson(data, what), what);
  if (obj.schemaVersion !== 2) throw new ImageArchiveError(`${what}: schemaVersion ${JSON.stringify(obj.schemaVersion)} is not supported (expected 2)`);
  if (!Array.isArray(obj.manifests)) throw new ImageArchiveError(`${what}.manifests: expected an array`);
  return obj.manifests.map((m, i) => descriptorAt(m, `${what}.manifests[${i}]`));
}

/** Parses an OCI image manifest (or a Docker schema 2 manifest): the config and layer descriptors. */
export function parseOciManifest(data: Buffer, what: string): { config: Descriptor; layers: Descriptor[] } {
  const obj = objectAt(parseJson(data, what), what);
  if (obj.schemaVersion !== 2) throw new ImageArchiveError(`${what}: schemaVersion ${JSON.stringify(obj.schemaVersion)} is not supported (expected 2)`);
  if (!Array.isArray(obj.layers)) throw new ImageArchiveError(`${what}.layers: expected an array`);
  return { config: descriptorAt(obj.config, `${what}.config`), layers: obj.layers.map((l, i) => descriptorAt(l, `${what}.layers[${i}]`)) };
}

/** What the engine records of an image config (the ImageCreated data), read from a config blob. */
export interface ParsedImageConfig {
  readonly diffIds: readonly string[];
  readonly config: ImageConfig;
  readonly history: readonly HistoryEntry[];
  readonly created: string;
  readonly architecture: string;
  readonly os: string;
}

/**
 * Reads an image config blob as Docker and OCI tools write it. Fields the engine does not keep
 * (Hostname, Healthcheck...) are left in the blob, which is stored byte for byte, so
 * the image id (its digest) does not change; missing ones take Docker's zero values.
 */
export function parseImageConfig(data: Buffer, what = 'the image config'): ParsedImageConfig {
  const obj = objectAt(parseJson(data, what), what);
  const rootfs = objectAt(obj.rootfs, `${what}.rootfs`);
  if (rootfs.type !== 'layers') throw new ImageArchiveError(`${what}.rootfs.type: expected "layers", got ${JSON.stringify(rootfs.type)}`);
  const diffIds = stringsAt(rootfs.diff_ids, `${what}.rootfs.diff_ids`, true);
  diffIds.forEach((d, i) => {
    if (!DIGEST_PATTERN.test(d)) throw new ImageArchiveError(`${what}.rootfs.diff_ids[${i}]: ${JSON.stringify(d)} is not a sha256 digest`);
  });
  const c = obj.config === undefined || obj.config === null ? {} : objectAt(obj.config, `${what}.config`);
  const ports = c.ExposedPorts;
  const volumes = c.Volumes;
  const config: ImageConfig = {
    Env: stringsAt(c.Env, `${what}.config.Env`, true),
    Cmd: nullableStrings(c.Cmd, `${what}.config.Cmd`),
    Entrypoint: nullableStrings(c.Entrypoint, `${what}.config.Entrypoint`),
    WorkingDir: optionalString(c.WorkingDir, `${what}.config.WorkingDir`) ?? '',
    User: optionalString(c.User, `${what}.config.User`) ?? '',
    Labels: stringRecord(c.Labels, `${what}.config.Labels`),
    ...(isObject(ports) && Object.keys(ports).length > 0 ? { ExposedPorts: Object.fromEntries(Object.keys(ports).map((p) => [p, {}])) } : {}),
    ...(isObject(volumes) && Object.keys(volumes).length > 0 ? { Volumes: Object.fromEntries(Object.keys(volumes).map((p) => [p, {}])) } : {}),
  };
  const rawHistory = obj.history === undefined || obj.history === null ? [] : obj.history;
  if (!Array.isArray(rawHistory)) throw new ImageArchiveError(`${what}.history: expected an array`);
  const history = rawHistory.map((item, i): HistoryEntry => {
    const h = objectAt(item, `${what}.history[${i}]`);
    const comment = optionalString(h.comment, `${what}.history[${i}].comment`);
    const author = optionalString(h.author, `${what}.history[${i}].author`);
    return {
      created: optionalString(h.created, `${what}.history[${i}].created`) ?? '',
      created_by: optionalString(h.created_by, `${what}.history[${i}].created_by`) ?? '',
      ...(comment ? { comment } : {}),
      ...(author ? { author } : {}),
      ...(h.empty_layer === true ? { empty_layer: true } : {}),
    };
  });
  return {
    diffIds,
    config,
    history,
    created: optionalString(obj.created, `${what}.created`) ?? '',
    architecture: optionalString(obj.architecture, `${what}.architecture`) ?? '',
    os: optionalString(obj.os, `${what}.os`) ?? '',
  };
}

/** The names an OCI index entry gives its image, familiar ("x:latest"); none for a bare tag. */
export function repoTagsOf(descriptor: Descriptor): string[] {
  const annotations = descriptor.annotations ?? {};
  const named = annotations[IMAGE_NAME_ANNOTATION];
  const refName = annotations[REF_NAME_ANNOTATION];
  // docker writes a bare tag in ref.name next to the full name; skopeo's oci-archive:FILE:name:tag writes "name:tag".
  const candidate = named ?? (refName !== undefined && /[:/]/.test(refName) ? refName : undefined);
  if (candidate === undefined) return [];
  try {
    const ref = parseReference(candidate);
    return ref.tag !== undefined && ref.digest === undefined ? [ref.ref] : [];
  } catch (error) {
    if (error instanceof InvalidReferenceError) return [];
    throw error;
  }
}
