/**
 * Bind mounts as Docker's API carries them: `HostConfig.Binds` (the `-v SOURCE:TARGET[:OPTIONS]`
 * strings) and `HostConfig.Mounts` entries of type "bind" (`--mount type=bind,source=,target=`).
 * Pure: the API checks them on create, the engine turns them into the isolator's BindSpec on start.
 * Only host paths are bound: named and anonymous volumes are refused with a clear message.
 */
import { posix } from 'node:path';
import type { BindMountConfig, HostConfig } from '../../events/index.js';
import type { BindSpec } from '../plugins/driver.js';
import { InvalidArgumentError } from './errors.js';

/** Options of a `-v` string that mean nothing more here (SELinux labels, the default propagation). */
const IGNORED_OPTIONS = new Set(['z', 'Z', 'rprivate', 'private']);

function cleanTarget(target: string, what: string): string {
  if (!target.startsWith('/')) throw new InvalidArgumentError(`invalid ${what}: the container path "${target}" must be absolute`);
  const clean = posix.normalize(target).replace(/(.)\/+$/, '$1');
  if (clean === '/') throw new InvalidArgumentError(`invalid ${what}: destination can't be '/'`);
  return clean;
}

function cleanSource(source: string): string {
  return posix.normalize(source).replace(/(.)\/+$/, '$1');
}

/** One `-v` string: `/host/path:/container/path[:ro|rw[,z|Z]]`. */
export function parseBind(spec: string): BindSpec {
  const what = `volume specification '${spec}'`;
  const parts = spec.split(':');
  if (parts.length === 1 && spec.startsWith('/')) {
    throw new InvalidArgumentError(`anonymous volumes are not supported yet: '${spec}' (bind a host folder: -v /host/path:${spec})`);
  }
  if (parts.length < 2 || parts.length > 3 || parts[0] === '' || parts[1] === '') throw new InvalidArgumentError(`invalid ${what}`);
  const [source, target, options = ''] = parts as [string, string, string?];
  if (!source.startsWith('/')) {
    throw new InvalidArgumentError(`named volumes are not supported yet: '${spec}' (bind a host folder instead: -v /host/path:${target})`);
  }
  let readOnly: boolean | undefined;
  for (const option of options === '' ? [] : options.split(',')) {
    if (option === 'ro' || option === 'rw') {
      if (readOnly !== undefined) throw new InvalidArgumentError(`invalid ${what}: ro and rw given twice`);
      readOnly = option === 'ro';
    } else if (!IGNORED_OPTIONS.has(option)) {
      throw new InvalidArgumentError(`invalid ${what}: unsupported option "${option}" (ro, rw, z, Z)`);
    }
  }
  return { source: cleanSource(source), target: cleanTarget(target, what), readOnly: readOnly ?? false };
}

/** One `HostConfig.Mounts` entry; only type "bind". */
export function parseMount(mount: BindMountConfig): BindSpec {
  if (mount.Type !== 'bind') throw new InvalidArgumentError(`mounts of type "${mount.Type}" are not supported yet: only bind mounts (type=bind)`);
  const what = 'mount config for type "bind"';
  if (mount.Source === '') throw new InvalidArgumentError(`invalid ${what}: field Source must not be empty`);
  if (!mount.Source.startsWith('/')) throw new InvalidArgumentError(`invalid ${what}: the host path "${mount.Source}" must be absolute`);
  return { source: cleanSource(mount.Source), target: cleanTarget(mount.Target, what), readOnly: mount.ReadOnly };
}

/** Every bind of a container, `Binds` then `Mounts`, refusing two on one container path. */
export function bindsOf(hostConfig: Pick<HostConfig, 'Binds' | 'Mounts'>): BindSpec[] {
  // Mounts of type tmpfs are not binds: core/security/container-security.ts reads them.
  const binds = [...(hostConfig.Binds ?? []).map(parseBind), ...(hostConfig.Mounts ?? []).filter((m) => m.Type !== 'tmpfs').map(parseMount)];
  const seen = new Set<string>();
  for (const b of binds) {
    if (seen.has(b.target)) throw new InvalidArgumentError(`Duplicate mount point: ${b.target}`);
    seen.add(b.target);
  }
  return binds;
}
