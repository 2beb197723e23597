import type { ContainerInspect, CreateResponse } from './api-types.js';
import type { CreateBody } from './container-flags.js';
import type { DaemonClient } from './daemon-client.js';
import { CliError, DaemonError, errorLine, startFailureExitCode } from './errors.js';

/** `/containers/<ref>` with the reference escaped. */
export function containerPath(ref: string, suffix = ''): string {
  return `/containers/${encodeURIComponent(ref)}${suffix}`;
}

/** `/networks/<ref>`, escaped. */
export function networkPath(ref: string): string {
  return `/networks/${encodeURIComponent(ref)}`;
}

/** `/images/<name>` with each path segment escaped (names like `library/busybox` keep their slash). */
export function imagePath(name: string, suffix = ''): string {
  return `/images/${name.split('/').map(encodeURIComponent).join('/')}${suffix}`;
}

/** `--pull` of run and create, as Docker: pull when the image is missing (default), always, or never. */
export type PullPolicy = 'missing' | 'always' | 'never';

/**
 * `POST /containers/create`; prints the daemon's warnings; failures exit 125 (docker's rule). As
 * the docker CLI does, an image the daemon does not have is pulled (its progress on stderr) and
 * the create tried again, unless `pull` is "never"; "always" pulls first.
 */
export async function createContainer(client: DaemonClient, body: CreateBody, name: string | undefined, warn: (line: string) => void, pull: PullPolicy = 'missing'): Promise<string> {
  const { looksLikeTarPath } = await import('../../core/images/image-reference.js');
  const pullable = !looksLikeTarPath(body.Image);
  const fetch = async (): Promise<void> => {
    const { pullImage } = await import('./pull-image.js');
    try {
      await pullImage(client, body.Image, { out: process.stderr });
    } catch (err) {
      if (err instanceof DaemonError) throw err.exitingWith(125);
      if (err instanceof CliError) throw new CliError(err.message, 125);
      throw err;
    }
  };
  if (pull === 'always' && pullable) await fetch();
  const create = (): Promise<CreateResponse> => client.json<CreateResponse>('POST', '/containers/create', { query: { name }, json: body });
  let created: CreateResponse;
  try {
    created = await create();
  } catch (err) {
    if (err instanceof DaemonError && err.status === 404 && pull === 'missing' && pullable && /^No such image/.test(err.message)) {
      const { parseReference } = await import('../../core/images/image-reference.js');
      let shown = body.Image;
      try {
        shown = parseReference(body.Image).ref;
      } catch { /* the daemon's message says why */ }
      warn(`Unable to find image '${shown}' locally`);
      await fetch();
      try {
        created = await create();
      } catch (again) {
        if (again instanceof DaemonError) throw again.exitingWith(125);
        throw again;
      }
    } else {
      if (err instanceof DaemonError) throw err.exitingWith(125);
      throw err;
    }
  }
  for (const w of created.Warnings ?? []) warn(`WARNING: ${w}`);
  return created.Id;
}

/** `POST /containers/{id}/start`; a failure exits 125, 126 or 127 depending on its message. */
export async function startContainer(client: DaemonClient, id: string): Promise<void> {
  try {
    await client.call('POST', containerPath(id, '/start'));
  } catch (err) {
    if (err instanceof DaemonError) throw err.exitingWith(startFailureExitCode(err.message));
    throw err;
  }
}

/** `GET /containers/{ref}/json`. */
export function inspectContainer(client: DaemonClient, ref: string): Promise<ContainerInspect> {
  return client.json<ContainerInspect>('GET', containerPath(ref, '/json'));
}

/**
 * Runs `action` for each reference like docker's multi-container commands: prints what `action`
 * returns, each failure as its error line (`Error response from daemon: …` for the daemon's), and
 * returns 1 when any failed (0 else). `failed`, when given, makes a last line naming the references
 * that failed (docker's `start`: "Error: failed to start containers: a, b") after the daemon's
 * refusals; a failure of the CLI's own (the daemon went away mid-request) stays its one line.
 */
export async function forEachRef(refs: readonly string[], action: (ref: string) => Promise<string | undefined>, io: { out: (line: string) => void; err: (line: string) => void }, failed?: (refs: readonly string[]) => string): Promise<number> {
  const failures: string[] = [];
  let refused = false;
  for (const ref of refs) {
    try {
      const line = await action(ref);
      if (line !== undefined) io.out(line);
    } catch (err) {
      if ((err instanceof CliError || err instanceof DaemonError) && (err.exitCode ?? 1) !== 1) throw err;
      if (!(err instanceof DaemonError) && !(err instanceof CliError)) throw err;
      failures.push(ref);
      refused ||= err instanceof DaemonError;
      io.err(errorLine(err));
    }
  }
  if (failures.length === 0) return 0;
  if (failed && refused) io.err(errorLine(new CliError(failed(failures))));
  return 1;
}
