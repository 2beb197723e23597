import type { Platform, RemoteReference } from '../plugins/distribution.js';
import { parseReference, type ImageReference } from './image-reference.js';
import { ociArchitecture } from './image-config.js';

/** Docker Hub's name in references; its API is at registry-1.docker.io. */
export const DOCKER_HUB = 'docker.io';

/**
 * Where a reference lives, as Docker reads it: `busybox` → docker.io, `library/busybox`;
 * `team/app` → docker.io, `team/app`; `127.0.0.1:5000/team/app` → that host, `team/app`.
 */
export function remoteOf(ref: ImageReference): RemoteReference {
  const slash = ref.repo.indexOf('/');
  const first = slash === -1 ? '' : ref.repo.slice(0, slash);
  const hasDomain = slash !== -1 && (/[.:]/.test(first) || first === 'localhost');
  const registry = hasDomain ? first : DOCKER_HUB;
  const rest = hasDomain ? ref.repo.slice(slash + 1) : ref.repo;
  const repository = registry === DOCKER_HUB && !rest.includes('/') ? `library/${rest}` : rest;
  return { registry, repository, ...(ref.tag !== undefined ? { tag: ref.tag } : {}), ...(ref.digest !== undefined ? { digest: ref.digest } : {}) };
}

/** `remoteOf(parseReference(text))`, with the parsed reference. */
export function parseRemote(text: string): { ref: ImageReference; remote: RemoteReference } {
  const ref = parseReference(text);
  return { ref, remote: remoteOf(ref) };
}

/** The host's platform: linux and node's architecture in OCI's words (amd64, arm64...). */
export function hostPlatform(): Platform {
  const architecture = ociArchitecture();
  return { os: 'linux', architecture, ...(architecture === 'arm' ? { variant: 'v7' } : {}) };
}

/**
 * `--platform` as Docker reads it: "os/arch[/variant]" or an architecture alone (linux then);
 * x86_64 and aarch64 are the same as amd64 and arm64. Throws a one-line message otherwise.
 */
export function parsePlatform(text: string): Platform {
  const parts = text.trim().toLowerCase().split('/');
  if (parts.some((p) => p === '') || parts.length > 3) throw new Error(`invalid platform ${JSON.stringify(text)}: expected os/arch[/variant], e.g. linux/arm64`);
  const [os, arch, variant] = parts.length === 1 ? ['linux', parts[0]!, undefined] : [parts[0]!, parts[1]!, parts[2]];
  const aliases: Readonly<Record<string, string>> = { x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', armhf: 'arm', i386: '386' };
  return { os, architecture: aliases[arch] ?? arch, ...(variant !== undefined ? { variant } : {}) };
}
