import { parseReference } from '../../core/images/image-reference.js';
import type { ProgressMessage } from './api-types.js';
import type { DaemonClient } from './daemon-client.js';
import { jsonLines } from './daemon-client.js';
import { CliError } from './errors.js';
import { registryAuthHeader, registryOfName } from './registry-config.js';
import { TransferProgress } from './transfer-progress.js';

/** "busybox:latest" → "docker.io/library/busybox:latest", as the docker CLI's last pull line says it. */
export function fullyQualified(ref: string): string {
  const registry = registryOfName(ref);
  if (registry !== 'docker.io') return ref;
  return ref.includes('/') ? `docker.io/${ref}` : `docker.io/library/${ref}`;
}

/**
 * Pulls `image` through the daemon (POST /images/create) with the credentials config.json has for
 * its registry, showing progress on `out` unless quiet. Returns the normalised reference pulled
 * (with `allTags`, every tag of the repository: the query has no tag, and the name is returned).
 */
export async function pullImage(client: DaemonClient, image: string, options: { platform?: string; quiet?: boolean; out?: NodeJS.WriteStream; allTags?: boolean } = {}): Promise<string> {
  let ref;
  try {
    ref = parseReference(image);
  } catch (error) {
    throw new CliError((error as Error).message);
  }
  const auth = await registryAuthHeader(registryOfName(ref.repo)).catch((error: unknown) => {
    throw new CliError((error as Error).message);
  });
  const res = await client.request('POST', '/images/create', {
    query: { fromImage: ref.repo, tag: options.allTags ? undefined : ref.digest ?? ref.tag, platform: options.platform },
    ...(auth ? { headers: { 'X-Registry-Auth': auth } } : {}),
  });
  const progress = new TransferProgress(options.out ?? process.stdout, options.quiet === true);
  for await (const msg of jsonLines<ProgressMessage>(res)) progress.handle(msg);
  return options.allTags ? ref.repo : ref.ref;
}
