/** Pure mappings from ImageState to Docker's image JSON (ImageInspect and ImageSummary of
 * the Engine API reference, https://docs.docker.com/reference/api/engine/). */
import type { ImageState } from '../state/engine-state.js';
import { ZERO_TIME, fixedNanos, toUnixSeconds } from './time.js';

/**
 * The familiar form of a reference, as Docker prints it: "docker.io/library/alpine" → "alpine",
 * "docker.io/user/app:1" → "user/app:1"; other registries are kept.
 */
export function familiarRef(ref: string): string {
  return ref.replace(/^(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)\/(?:library\/(?=[^/]+$|[^/]+[:@]))?/, '');
}

/**
 * A familiar reference with its tag: "docker.io/library/alpine" + "3.19" → "alpine:3.19",
 * "busybox" → "busybox:latest"; a reference that has a tag or digest is kept.
 */
export function withTag(name: string, tag?: string): string {
  const f = familiarRef(name);
  const tail = f.slice(f.lastIndexOf('/') + 1);
  if (tail.includes(':') || tail.includes('@')) return f;
  return `${f}:${tag || 'latest'}`;
}

/** An image as `GET /images/json` lists it. */
export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created: number;
  Size: number;
  SharedSize: number;
  Labels: Record<string, string>;
  Containers: number;
}

/** `containers` is how many containers use the image (-1 when not counted, like Docker). */
export function presentImageSummary(img: ImageState, containers = -1): ImageSummary {
  return {
    Id: img.id,
    ParentId: img.parent ?? '',
    RepoTags: img.tags.map(familiarRef),
    RepoDigests: [...(img.repoDigests ?? [])],
    Created: toUnixSeconds(img.created),
    Size: img.size,
    SharedSize: -1,
    Labels: { ...(img.config.Labels ?? {}) },
    Containers: containers,
  };
}

function lastHistory(img: ImageState): { comment: string; author: string } {
  const h = img.history[img.history.length - 1];
  return { comment: h?.comment ?? '', author: h?.author ?? '' };
}

/** `GET /images/{name}/json`, plus a `TinyDocker` field saying where the image came from. */
export function presentImageInspect(img: ImageState, context: { storageDriver: string }): Record<string, unknown> {
  const { comment, author } = lastHistory(img);
  const cfg = img.config;
  const config: Record<string, unknown> = {
    Hostname: '',
    Domainname: '',
    User: cfg.User ?? '',
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: [...(cfg.Env ?? [])],
    Cmd: cfg.Cmd ? [...cfg.Cmd] : null,
    Image: '',
    Volumes: cfg.Volumes && Object.keys(cfg.Volumes).length > 0 ? { ...cfg.Volumes } : null,
    WorkingDir: cfg.WorkingDir ?? '',
    Entrypoint: cfg.Entrypoint ? [...cfg.Entrypoint] : null,
    OnBuild: null,
    Labels: { ...(cfg.Labels ?? {}) },
  };
  if (cfg.ExposedPorts && Object.keys(cfg.ExposedPorts).length > 0) config.ExposedPorts = { ...cfg.ExposedPorts };
  const storage = context.storageDriver.split('.').pop() ?? context.storageDriver;
  return {
    Id: img.id,
    RepoTags: img.tags.map(familiarRef),
    RepoDigests: [...(img.repoDigests ?? [])],
    Parent: img.parent ?? '',
    Comment: comment,
    Created: fixedNanos(img.created),
    DockerVersion: '',
    Author: author,
    Config: config,
    Architecture: img.architecture,
    Os: img.os,
    Size: img.size,
    GraphDriver: { Name: storage, Data: null },
    RootFS: { Type: 'layers', Layers: img.layers.map((l) => l.diffId) },
    Metadata: { LastTagTime: ZERO_TIME },
    TinyDocker: { Origin: img.origin, Source: img.source },
  };
}

/** One row of `GET /images/{name}/history`. */
export interface HistoryRow {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

/** The history, newest first like Docker: the top row carries the image id and tags, the others "<missing>". */
export function presentImageHistory(img: ImageState): HistoryRow[] {
  const rows: HistoryRow[] = [];
  let layer = 0;
  if (img.history.length === 0) {
    for (const l of img.layers) rows.push({ Id: '<missing>', Created: toUnixSeconds(img.created), CreatedBy: '', Tags: null, Size: l.size, Comment: '' });
  } else {
    for (const h of img.history) {
      const size = h.empty_layer ? 0 : (img.layers[layer++]?.size ?? 0);
      rows.push({ Id: '<missing>', Created: toUnixSeconds(h.created), CreatedBy: h.created_by, Tags: null, Size: size, Comment: h.comment ?? '' });
    }
  }
  rows.reverse();
  if (rows.length === 0) rows.push({ Id: img.id, Created: toUnixSeconds(img.created), CreatedBy: '', Tags: null, Size: 0, Comment: '' });
  rows[0] = { ...rows[0]!, Id: img.id, Tags: img.tags.length > 0 ? img.tags.map(familiarRef) : null };
  return rows;
}
