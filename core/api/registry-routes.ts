import type { Writable } from 'node:stream';
import type { DistributionProgress, RegistryCredentials } from '../plugins/distribution.js';
import { InvalidArgumentError, NotFoundError, NotImplementedError } from '../engine/errors.js';
import type { PullOutcome, RegistryService } from '../engine/registry-service.js';
import type { ApiRequest, ApiResponse } from './exchange.js';
import { queryString } from './http-params.js';
import { withTag } from './presenters.js';
import type { Router } from './router.js';
import { messageOf, writeJsonLine, type RouteDeps } from './route-support.js';

/**
 * Credentials from the `X-Registry-Auth` header the docker CLI sends: base64url of JSON
 * `{username, password, auth, serveraddress, identitytoken, registrytoken}`; undefined when absent
 * or empty (`e30=`, "{}"). `auth` is base64 of "user:password", as in config.json.
 */
export function credentialsFromHeader(header: string | string[] | undefined): RegistryCredentials | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new InvalidArgumentError('X-Registry-Auth is not base64-encoded JSON');
  }
  return credentialsFromJson(doc);
}

function credentialsFromJson(doc: Record<string, unknown>): RegistryCredentials | undefined {
  const text = (k: string): string | undefined => (typeof doc[k] === 'string' && doc[k] !== '' ? doc[k] : undefined);
  let username = text('username');
  let password = text('password');
  const auth = text('auth');
  if (!username && auth) {
    const decoded = Buffer.from(auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) [username, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
  }
  const identityToken = text('identitytoken');
  const registryToken = text('registrytoken');
  if (!username && !identityToken && !registryToken) return undefined;
  return { ...(username ? { username } : {}), ...(password ? { password } : {}), ...(identityToken ? { identityToken } : {}), ...(registryToken ? { registryToken } : {}) };
}

/** A Docker progress bar: `[=====>      ]  1.2MB/3.4MB`, as moby's jsonmessage draws it. */
function bar(current: number, total: number): string {
  const width = 50;
  const filled = total > 0 ? Math.min(width, Math.floor((current / total) * width)) : 0;
  const human = (n: number): string => (n >= 1e9 ? `${(n / 1e9).toFixed(3)}GB` : n >= 1e6 ? `${(n / 1e6).toFixed(2)}MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}kB` : `${n}B`);
  return `[${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(width - filled)}] ${human(current).padStart(8)}/${human(total)}`;
}

/**
 * A JSON progress stream that starts on its first line: an error before any line is answered with
 * its HTTP status (Docker does the same: `docker pull` of a missing tag gets a 404), after it as
 * an `errorDetail` line.
 */
class ProgressStream {
  private out: Writable | undefined;

  constructor(private readonly res: ApiResponse) {}

  line(value: unknown): void {
    this.out ??= this.res.stream('application/json');
    writeJsonLine(this.out, value, '\r\n');
  }

  progress(p: DistributionProgress): void {
    const detail = p.current !== undefined && p.total !== undefined ? { current: p.current, total: p.total } : {};
    this.line({
      status: p.status, progressDetail: detail,
      ...(p.current !== undefined && p.total !== undefined ? { progress: bar(p.current, p.total) } : {}),
      ...(p.id !== undefined ? { id: p.id } : {}),
    });
  }

  /** Ends the stream; `error` goes out as a status when nothing was sent yet, else as a line. */
  finish(error?: unknown): void {
    if (error !== undefined && this.out === undefined) throw error;
    if (error !== undefined) {
      const message = messageOf(error);
      this.line({ errorDetail: { message }, error: message });
    }
    this.out?.end();
  }
}

/** Whether a name carries its own tag or digest ("busybox:1", "x@sha256:…"), not just a port ("host:5000/x"). */
function hasTagOrDigest(name: string): boolean {
  return name.includes('@') || name.slice(name.lastIndexOf('/') + 1).includes(':');
}

/**
 * `POST /images/create?fromImage=…&tag=…&platform=…`: a pull, with Docker's JSON progress. Without
 * `tag` (and none in fromImage) every tag of the repository is pulled, as moby does for `docker
 * pull --all-tags`; the docker CLI, dockerode and docker-py always send a tag otherwise.
 */
export async function pullRoute(service: RegistryService | undefined, req: ApiRequest, res: ApiResponse, fromImage: string): Promise<void> {
  if (!service) throw new NotImplementedError('pulling images needs a distribution driver, and none is loaded: see `mini-docker info`');
  const tag = queryString(req.query, 'tag');
  const platform = queryString(req.query, 'platform');
  const credentials = credentialsFromHeader(req.headers['x-registry-auth']);
  const stream = new ProgressStream(res);
  const pullOne = async (ref: string): Promise<PullOutcome> => {
    const at = ref.indexOf('@');
    const named = at === -1 ? ref.slice(0, ref.lastIndexOf(':')) : ref.slice(0, at);
    const shownRef = at === -1 ? ref.slice(ref.lastIndexOf(':') + 1) : ref.slice(at + 1);
    let announced = false;
    const outcome = await service.pull(ref, {
      ...(platform ? { platform } : {}), ...(credentials ? { credentials } : {}), signal: res.signal,
      onProgress: (p) => {
        if (!announced) {
          announced = true;
          stream.line({ status: `Pulling from ${pathOf(named)}`, id: shownRef });
        }
        stream.progress(p);
      },
    });
    if (!announced) stream.line({ status: `Pulling from ${pathOf(named)}`, id: shownRef });
    stream.line({ status: `Digest: ${outcome.digest}` });
    return outcome;
  };
  try {
    if (tag === undefined && !hasTagOrDigest(fromImage)) {
      const tags = await service.tags(fromImage, credentials);
      if (tags.length === 0) throw new NotFoundError(`repository ${fromImage} has no tags to pull`);
      const outcomes: PullOutcome[] = [];
      for (const t of tags) outcomes.push(await pullOne(withTag(fromImage, t)));
      const downloaded = outcomes.some((o) => o.status.startsWith('Downloaded'));
      stream.line({ status: `Status: ${downloaded ? 'Downloaded newer image' : 'Image is up to date'} for ${fromImage}` });
    } else {
      // `tag` may be a digest (the docker CLI sends fromImage=busybox&tag=sha256:…).
      const ref = tag !== undefined && tag.startsWith('sha256:') ? `${fromImage}@${tag}` : withTag(fromImage, tag);
      const outcome = await pullOne(ref);
      stream.line({ status: `Status: ${outcome.status}` });
    }
    stream.finish();
  } catch (error) {
    stream.finish(error);
  }
}

/** "busybox" → "library/busybox", "127.0.0.1:5000/x/y" → "x/y": how Docker says what it pulls from. */
function pathOf(name: string): string {
  const slash = name.indexOf('/');
  const first = slash === -1 ? '' : name.slice(0, slash);
  if (slash !== -1 && (/[.:]/.test(first) || first === 'localhost')) return name.slice(slash + 1);
  return name.includes('/') ? name : `library/${name}`;
}

/** "busybox" → "docker.io/library/busybox", "127.0.0.1:5000/x" as it is: the repository Docker says it pushes to. */
function fullName(name: string): string {
  const bare = name.replace(/[:@][^/]*$/, '');
  const slash = bare.indexOf('/');
  const first = slash === -1 ? '' : bare.slice(0, slash);
  if (slash !== -1 && (/[.:]/.test(first) || first === 'localhost')) return bare;
  return `docker.io/${pathOf(bare)}`;
}

/** Push, login and the registry lookup; the pull is `pullRoute`, reached from POST /images/create. */
export function registerRegistryRoutes(router: Router, { registry }: RouteDeps): void {
  const service = (): RegistryService => {
    if (!registry) throw new NotImplementedError('registries need a distribution driver, and none is loaded: see `mini-docker info`');
    return registry;
  };

  router.post('/images/{name:.*}/push', async ({ req, res, params }) => {
    const svc = service();
    const tag = queryString(req.query, 'tag');
    const credentials = credentialsFromHeader(req.headers['x-registry-auth']);
    const stream = new ProgressStream(res);
    const name = params.name!;
    try {
      stream.line({ status: `The push refers to repository [${fullName(name)}]` });
      const outcomes = await svc.push(name, tag || undefined, {
        ...(credentials ? { credentials } : {}), signal: res.signal,
        onProgress: (p) => stream.progress(p),
      });
      for (const o of outcomes) {
        stream.line({ status: `${o.tag}: digest: ${o.digest} size: ${o.size}` });
        stream.line({ progressDetail: {}, aux: { Tag: o.tag, Digest: o.digest, Size: o.size } });
      }
      stream.finish();
    } catch (error) {
      stream.finish(error);
    }
  });

  router.post('/auth', async ({ req, res }) => {
    const body = await req.body();
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      throw new InvalidArgumentError('the body of /auth must be JSON: {"username", "password", "serveraddress"}');
    }
    const credentials = credentialsFromJson(doc);
    if (!credentials) throw new InvalidArgumentError('no credentials: give a username and password (or an identity token)');
    await service().login(typeof doc.serveraddress === 'string' ? doc.serveraddress : '', credentials);
    res.json(200, { Status: 'Login Succeeded', IdentityToken: '' });
  });

  router.get('/distribution/{name:.*}/json', async ({ req, res, params }) => {
    const described = await service().resolve(params.name!, credentialsFromHeader(req.headers['x-registry-auth']));
    res.json(200, {
      Descriptor: { mediaType: described.mediaType, digest: described.digest, size: described.size },
      Platforms: described.platforms.map((p) => ({ architecture: p.architecture, os: p.os, ...(p.variant ? { variant: p.variant } : {}) })),
    });
  });
}
