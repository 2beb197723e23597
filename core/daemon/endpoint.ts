/**
 * Where the API is served and reached, as Docker writes it: `unix:///run/x.sock` (or a bare path)
 * and `tcp://IP:PORT`. The daemon listens on each `-H` it is given; the CLI connects to one.
 */
export type Endpoint =
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

/** Docker's port for TLS (2376) and plain TCP (2375), when `tcp://HOST` names none. */
export const DEFAULT_TLS_PORT = 2376;
export const DEFAULT_TCP_PORT = 2375;

/**
 * Parses a `-H` value. `tcp://:2376` means every address (0.0.0.0), `tcp://[::1]:2376` an IPv6
 * one; a missing port is Docker's default for the transport (`tls`: 2376, else 2375).
 */
export function parseEndpoint(value: string, tls = true): Endpoint {
  if (value.startsWith('unix://')) {
    const path = value.slice('unix://'.length);
    if (!path.startsWith('/')) throw new Error(`invalid host ${value}: a unix socket needs an absolute path (unix:///run/x.sock)`);
    return { kind: 'unix', path };
  }
  if (value.startsWith('/')) return { kind: 'unix', path: value };
  if (value.startsWith('tcp://')) {
    const rest = value.slice('tcp://'.length).replace(/\/$/, '');
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]/]*))(?::(\d+))?$/.exec(rest);
    if (!m) throw new Error(`invalid host ${value}: expected tcp://IP:PORT`);
    const host = m[1] ?? (m[2] === '' || m[2] === undefined ? '0.0.0.0' : m[2]);
    const port = m[3] === undefined ? (tls ? DEFAULT_TLS_PORT : DEFAULT_TCP_PORT) : Number(m[3]);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid host ${value}: the port must be 1-65535`);
    return { kind: 'tcp', host, port };
  }
  throw new Error(`unsupported host ${value}: use unix:///path or tcp://IP:PORT`);
}

/** The `-H` form of an endpoint. */
export function formatEndpoint(e: Endpoint): string {
  if (e.kind === 'unix') return `unix://${e.path}`;
  return `tcp://${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`;
}

/** The TLS files of a listener or a client: Docker's `--tlscacert`, `--tlscert`, `--tlskey`. */
export interface TlsFiles {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/**
 * Docker's defaults for the TLS files: `ca.pem`, `cert.pem` and `key.pem` in `$DOCKER_CERT_PATH`,
 * else in `~/.docker`; each flag given overrides its file.
 */
export function tlsFiles(flags: { tlscacert?: string | undefined; tlscert?: string | undefined; tlskey?: string | undefined }, env: NodeJS.ProcessEnv, home: string): TlsFiles {
  const dir = env.DOCKER_CERT_PATH && env.DOCKER_CERT_PATH !== '' ? env.DOCKER_CERT_PATH : `${home}/.docker`;
  return { ca: flags.tlscacert ?? `${dir}/ca.pem`, cert: flags.tlscert ?? `${dir}/cert.pem`, key: flags.tlskey ?? `${dir}/key.pem` };
}
