import { DistributionError, type RegistryCredentials } from '../../core/plugin-api.js';
import { readBody, type HttpResponse, type RegistryTransport } from './registry-transport.js';

/** One `WWW-Authenticate` challenge: `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`. */
export interface Challenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

/** Parses a `WWW-Authenticate` value (one challenge; quoted or bare parameter values). */
export function parseChallenge(header: string): Challenge | undefined {
  const m = /^\s*([A-Za-z]+)\s*(.*)$/.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?/g;
  for (let p = re.exec(m[2]!); p; p = re.exec(m[2]!)) params[p[1]!.toLowerCase()] = (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1');
  return { scheme: m[1]!.toLowerCase(), params };
}

const basic = (c: RegistryCredentials): string => `Basic ${Buffer.from(`${c.username ?? ''}:${c.password ?? ''}`).toString('base64')}`;
const hasLogin = (c?: RegistryCredentials): c is RegistryCredentials => !!c && (!!c.username || !!c.identityToken);

/**
 * Authorization for one registry and a set of scopes ("repository:team/app:pull,push"): it asks
 * `/v2/` once; on a 401 it follows the challenge: Basic sends the credentials, Bearer fetches a
 * token from the realm (with the credentials when there are any: Basic, or an identity token as an
 * OAuth2 refresh token) and sends that. Anonymous when the registry does not ask.
 */
export class RegistryAuth {
  private header: string | undefined;
  private ready: Promise<void> | undefined;

  constructor(
    private readonly transport: RegistryTransport,
    private readonly registry: string,
    private readonly scopes: readonly string[],
    private readonly credentials?: RegistryCredentials,
  ) {}

  /** Headers with the Authorization this registry wants (after the first challenge). */
  async headers(extra: Readonly<Record<string, string>> = {}): Promise<Record<string, string>> {
    this.ready ??= this.authenticate();
    await this.ready;
    return { ...extra, ...(this.header ? { Authorization: this.header } : {}) };
  }

  /** Forgets the token (a 401 later on, e.g. an expired token) so the next request asks again. */
  reset(): void {
    this.ready = undefined;
    this.header = undefined;
  }

  private async authenticate(): Promise<void> {
    if (this.credentials?.registryToken) {
      this.header = `Bearer ${this.credentials.registryToken}`;
      return;
    }
    const base = this.transport.baseUrl(this.registry);
    const ping = await this.transport.request(new URL('/v2/', base));
    ping.body.resume();
    if (ping.status !== 401) {
      if (ping.status >= 200 && ping.status < 300) return;
      if (ping.status === 404) throw new DistributionError(`${this.registry} does not speak the registry API v2 (GET /v2/ answered 404)`, 502);
      return; // some registries answer /v2/ oddly yet serve the rest
    }
    const challenge = parseChallenge(String(ping.headers['www-authenticate'] ?? ''));
    if (!challenge) throw new DistributionError(`${this.registry} asked for authentication without saying how (no WWW-Authenticate)`, 502);
    if (challenge.scheme === 'basic') {
      if (!hasLogin(this.credentials)) throw unauthorized(this.registry);
      this.header = basic(this.credentials);
      return;
    }
    if (challenge.scheme !== 'bearer') throw new DistributionError(`${this.registry} asks for ${challenge.scheme} authentication, which this engine does not speak`, 502);
    this.header = `Bearer ${await this.fetchToken(challenge)}`;
  }

  private async fetchToken(challenge: Challenge): Promise<string> {
    const realm = challenge.params.realm;
    if (!realm) throw new DistributionError(`${this.registry}: its Bearer challenge has no realm`, 502);
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new DistributionError(`${this.registry}: its token realm ${JSON.stringify(realm)} is not a URL`, 502);
    }
    const service = challenge.params.service;
    let response: HttpResponse;
    if (this.credentials?.identityToken) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: this.credentials.identityToken, client_id: 'mini-docker' });
      if (service) form.set('service', service);
      if (this.scopes.length > 0) form.set('scope', this.scopes.join(' '));
      response = await this.transport.request(url, {
        method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: Buffer.from(form.toString()),
      });
    } else {
      if (service) url.searchParams.set('service', service);
      for (const scope of this.scopes) url.searchParams.append('scope', scope);
      response = await this.transport.request(url, { headers: hasLogin(this.credentials) ? { Authorization: basic(this.credentials) } : {}, followRedirects: true });
    }
    const body = await readBody(response, 1 << 20, `the token from ${url.host}`);
    if (response.status === 401 || response.status === 403) throw unauthorized(this.registry, hasLogin(this.credentials));
    if (response.status !== 200) throw new DistributionError(`the token server ${url.host} of ${this.registry} answered ${response.status}`, 502);
    let token: unknown;
    try {
      const parsed = JSON.parse(body.toString('utf8')) as { token?: unknown; access_token?: unknown };
      token = parsed.token ?? parsed.access_token;
    } catch {
      throw new DistributionError(`the token server ${url.host} of ${this.registry} sent something that is not JSON`, 502);
    }
    if (typeof token !== 'string' || token === '') throw new DistributionError(`the token server ${url.host} of ${this.registry} sent no token`, 502);
    return token;
  }
}

/** Docker's words for a registry that wants credentials. */
export function unauthorized(registry: string, hadCredentials = false): DistributionError {
  return hadCredentials
    ? new DistributionError(`unauthorized: ${registry} refused the credentials: check them with mini-docker login ${registry}`, 401)
    : new DistributionError(`unauthorized: authentication required by ${registry}: run mini-docker login ${registry}`, 401);
}
