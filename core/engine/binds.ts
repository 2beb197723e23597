/**
 * Mounts as Docker's API carries them: `HostConfig.Binds` (the `-v SOURCE:TARGET[:OPTIONS]`
 * strings) and `HostConfig.Mounts` entries (`--mount type=bind|volume,...`). Pure: the API checks
 * them on create; a host path becomes the isolator's BindSpec, a volume (named `-v data:/data`,
 * anonymous `-v /data`, `--mount type=volume`) a VolumeRequest that create resolves into the
 * container's recorded volumes (core/engine/container-volumes.ts).
 */
import { posix } from 'node:path';
import type { BindMountConfig, HostConfig } from '../../events/index.js';
import type { BindSpec } from '../plugins/driver.js';
import { InvalidArgumentError } from './errors.js';

/** Options of a `-v` string that mean nothing more here (SELinux labels, the default propagation). */
const IGNORED_OPTIONS = new Set(['z', 'Z', 'rprivate', 'private']);

/** A volume a container asks for: `name` "" for an anonymous one (made at create). */
export interface VolumeRequest {
  readonly name: string;
  readonly target: string;
  readonly readOnly: boolean;
  /** `nocopy` / `volume-nocopy`: a new volume is not filled with the image's content at target. */
  readonly noCopy: boolean;
}

/** One `-v` or `--mount`: a host path bound, or a volume. */
export type MountRequest = { readonly kind: 'bind'; readonly bind: BindSpec } | { readonly kind: 'volume'; readonly volume: VolumeRequest };

export function cleanTarget(target: string, what: string): string {
  if (!target.startsWith('/')) throw new InvalidArgumentError(`invalid ${what}: the container path "${target}" must be absolute`);
  const clean = posix.normalize(target).replace(/(.)\/+$/, '$1');
  if (clean === '/') throw new InvalidArgumentError(`invalid ${what}: destination can't be '/'`);
  return clean;
}

function cleanSource(source: string): string {
  return posix.normalize(source).replace(/(.)\/+$/, '$1');
}

/** One `-v` string: `/host/path:/container/path[:opts]`, `NAME:/container/path[:opts]` or `/container/path`. */
export function parseVolumeFlag(spec: string): MountRequest {
  const what = `volume specification '${spec}'`;
  const parts = spec.split(':');
  if (parts.length === 1) {
    if (spec === '') throw new InvalidArgumentError(`invalid ${what}`);
    return { kind: 'volume', volume: { name: '', target: cleanTarget(spec, what), readOnly: false, noCopy: false } };
  }
  if (parts.length > 3 || parts[0] === '' || parts[1] === '') throw new InvalidArgumentError(`invalid ${what}`);
  const [source, target, options = ''] = parts as [string, string, string?];
  const isBind = source.startsWith('/');
  let readOnly: boolean | undefined;
  let noCopy = false;
  for (const option of options === '' ? [] : options.split(',')) {
    if (option === 'ro' || option === 'rw') {
      if (readOnly !== undefined) throw new InvalidArgumentError(`invalid ${what}: ro and rw given twice`);
      readOnly = option === 'ro';
    } else if (option === 'nocopy' && !isBind) {
      noCopy = true;
    } else if (!IGNORED_OPTIONS.has(option)) {
      throw new InvalidArgumentError(`invalid ${what}: unsupported option "${option}" (ro, rw, ${isBind ? '' : 'nocopy, '}z, Z)`);
    }
  }
  if (isBind) return { kind: 'bind', bind: { source: cleanSource(source), target: cleanTarget(target, what), readOnly: readOnly ?? false } };
  if (source.startsWith('.') || source.includes('/')) {
    throw new InvalidArgumentError(`invalid ${what}: "${source}" is neither a volume name nor an absolute host path (use an absolute path to bind a host folder)`);
  }
  return { kind: 'volume', volume: { name: source, target: cleanTarget(target, what), readOnly: readOnly ?? false, noCopy } };
}

/** One `-v` string that must be a host bind (inspect shows binds from it). */
export function parseBind(spec: string): BindSpec {
  const m = parseVolumeFlag(spec);
  if (m.kind !== 'bind') throw new InvalidArgumentError(`'${spec}' is a volume, not a bind of a host path`);
  return m.bind;
}

/** One `HostConfig.Mounts` entry: type "bind" or "volume". */
export function parseMountEntry(mount: BindMountConfig): MountRequest {
  if (mount.Type === 'volume') {
    const what = 'mount config for type "volume"';
    if (mount.Source.startsWith('/')) throw new InvalidArgumentError(`invalid ${what}: invalid volume name "${mount.Source}" (a host path needs type=bind)`);
    return { kind: 'volume', volume: { name: mount.Source, target: cleanTarget(mount.Target, what), readOnly: mount.ReadOnly, noCopy: mount.VolumeOptions?.NoCopy === true } };
  }
  if (mount.Type !== 'bind') throw new InvalidArgumentError(`mounts of type "${mount.Type}" are not supported yet: type=bind or type=volume`);
  const what = 'mount config for type "bind"';
  if (mount.Source === '') throw new InvalidArgumentError(`invalid ${what}: field Source must not be empty`);
  if (!mount.Source.startsWith('/')) throw new InvalidArgumentError(`invalid ${what}: the host path "${mount.Source}" must be absolute`);
  return { kind: 'bind', bind: { source: cleanSource(mount.Source), target: cleanTarget(mount.Target, what), readOnly: mount.ReadOnly } };
}

/** One `HostConfig.Mounts` entry that must be a bind. */
export function parseMount(mount: BindMountConfig): BindSpec {
  const m = parseMountEntry(mount);
  if (m.kind !== 'bind') throw new InvalidArgumentError(`mount of type "${mount.Type}" is not a bind of a host path`);
  return m.bind;
}

/** Every mount a container asks for, `Binds` then `Mounts`, refusing two on one container path. */
export function mountRequestsOf(hostConfig: Pick<HostConfig, 'Binds' | 'Mounts'>): MountRequest[] {
  // Mounts of type tmpfs are neither binds nor volumes: core/security/container-security.ts reads them.
  const requests = [...(hostConfig.Binds ?? []).map(parseVolumeFlag), ...(hostConfig.Mounts ?? []).filter((m) => m.Type !== 'tmpfs').map(parseMountEntry)];
  const seen = new Set<string>();
  for (const r of requests) {
    const target = r.kind === 'bind' ? r.bind.target : r.volume.target;
    if (seen.has(target)) throw new InvalidArgumentError(`Duplicate mount point: ${target}`);
    seen.add(target);
  }
  return requests;
}

/** The host binds of a container (its volumes are recorded apart, in ContainerCreated). */
export function bindsOf(hostConfig: Pick<HostConfig, 'Binds' | 'Mounts'>): BindSpec[] {
  return mountRequestsOf(hostConfig).flatMap((r) => (r.kind === 'bind' ? [r.bind] : []));
}

/** `--volumes-from CONTAINER[:ro|rw]`. */
export function parseVolumesFrom(spec: string): { readonly container: string; readonly mode: 'ro' | 'rw' | '' } {
  const colon = spec.lastIndexOf(':');
  const container = colon < 0 ? spec : spec.slice(0, colon);
  const mode = colon < 0 ? '' : spec.slice(colon + 1);
  if (container === '' || (mode !== '' && mode !== 'ro' && mode !== 'rw')) {
    throw new InvalidArgumentError(`invalid --volumes-from '${spec}': use CONTAINER[:ro|rw]`);
  }
  return { container, mode };
}

/** Binds in mount order: a parent path before what is mounted under it (as Docker sorts by depth). */
export function byMountDepth<T extends { readonly target: string }>(binds: readonly T[]): T[] {
  const depth = (p: string): number => p.split('/').filter((x) => x !== '').length;
  return [...binds].sort((a, b) => depth(a.target) - depth(b.target));
}
