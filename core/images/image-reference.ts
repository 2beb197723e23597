/** An image reference, normalized to Docker's familiar form ("busybox:latest", "foo/bar:v1", "registry:5000/x:y"). */
export interface ImageReference {
  /** Familiar repository name: "busybox", "foo/bar", "localhost:5000/x". */
  readonly repo: string;
  /** The tag; "latest" unless a digest alone was given. */
  readonly tag?: string;
  /** "sha256:<hex>" when the reference pins one. */
  readonly digest?: string;
  /** The whole normalized reference: "busybox:latest", "busybox@sha256:…". */
  readonly ref: string;
}

/** A string that is not a valid image reference; the message says why. */
export class InvalidReferenceError extends Error {
  constructor(reference: string, reason: string) {
    super(`invalid reference format: ${JSON.stringify(reference)}: ${reason}`);
    this.name = 'InvalidReferenceError';
  }
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const DEFAULT_DOMAIN = 'docker.io';

/**
 * Parses an image reference the way Docker does (distribution/reference's normalized names):
 * `busybox` → busybox:latest, `docker.io/library/x:v1` → x:v1, `index.docker.io/foo/bar` →
 * foo/bar:latest, `localhost:5000/x` (a registry with a port), `repo@sha256:…`. Throws
 * InvalidReferenceError with the reason otherwise.
 */
export function parseReference(reference: string): ImageReference {
  if (reference === '') throw new InvalidReferenceError(reference, 'empty');
  let rest = reference;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new InvalidReferenceError(reference, 'the digest must be sha256:<64 lowercase hex digits>');
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new InvalidReferenceError(reference, `invalid tag ${JSON.stringify(tag)}`);
  }
  if (rest === '') throw new InvalidReferenceError(reference, 'no repository name');
  if (/^[a-f0-9]{64}$/.test(rest)) {
    throw new InvalidReferenceError(reference, 'a repository name cannot be a 64-character hexadecimal string (an image id?)');
  }

  const slash = rest.indexOf('/');
  const first = slash === -1 ? '' : rest.slice(0, slash);
  let domain = DEFAULT_DOMAIN;
  let path = rest;
  if (slash !== -1 && (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase())) {
    domain = first;
    path = rest.slice(slash + 1);
    if (!DOMAIN.test(domain)) throw new InvalidReferenceError(reference, `invalid registry host ${JSON.stringify(domain)}`);
  }
  if (domain === 'index.docker.io') domain = DEFAULT_DOMAIN;
  if (path !== path.toLowerCase()) throw new InvalidReferenceError(reference, `repository name ${JSON.stringify(path)} must be lowercase`);
  const components = path.split('/');
  for (const component of components) {
    if (!PATH_COMPONENT.test(component)) throw new InvalidReferenceError(reference, `invalid repository name component ${JSON.stringify(component)}`);
  }
  if (domain === DEFAULT_DOMAIN && components.length === 2 && components[0] === 'library') path = components[1]!;
  const repo = domain === DEFAULT_DOMAIN ? path : `${domain}/${path}`;
  const fullName = domain === DEFAULT_DOMAIN && !path.includes('/') ? `${domain}/library/${path}` : `${domain}/${path}`;
  if (fullName.length > 255) throw new InvalidReferenceError(reference, 'repository name is longer than 255 characters');
  if (tag === undefined && digest === undefined) tag = 'latest';
  const ref = `${repo}${tag === undefined ? '' : `:${tag}`}${digest === undefined ? '' : `@${digest}`}`;
  return { repo, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }), ref };
}

/**
 * Whether what the user typed where an image goes is a tarball path rather than a reference
 * (the original project's `run /tmp/busybox.tar`): it starts with "/", "./", "../" or "~/", or ends
 * in .tar, .tar.gz or .tgz. No reference can start that way; "busybox.tar" is a valid repository
 * name, so a caller may still check that the file exists.
 */
export function looksLikeTarPath(value: string): boolean {
  return /^(?:\/|\.\.?\/|~\/)/.test(value) || /\.(?:tar|tar\.gz|tgz)$/i.test(value);
}
