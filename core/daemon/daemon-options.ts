import { homedir } from 'node:os';
import { parseArgs } from 'node:util';
import { resolveDaemonPaths } from './daemon-config.js';
import { parseEndpoint, tlsFiles } from './endpoint.js';
import type { TcpListenerConfig } from './tcp-listeners.js';
import { parseRemapFlag } from '../security/userns-remap.js';

export const DAEMON_USAGE = `Usage: mini-dockerd [OPTIONS]

The tiny-docker daemon: runs containers and serves the Docker-shaped API on a unix socket, and on
TCP with TLS when asked.

Options:
      --data-root DIR      where images, containers and the event log live (env MINI_DOCKER_DATA_ROOT, default /var/lib/mini-docker)
      --exec-root DIR      where the pid file, the socket and the shims' folders live (env MINI_DOCKER_EXEC_ROOT, default /run/mini-docker)
  -H, --host HOST          where to serve the API, repeatable: unix:///PATH (env MINI_DOCKER_HOST, default
                           <exec-root>/mini-docker.sock; always served) and tcp://IP:PORT (needs --tls or --tlsverify)
      --tls                serve TCP with TLS (--tlscert, --tlskey)
      --tlsverify          serve TCP with TLS and require client certificates signed by --tlscacert
      --tlscacert FILE     CA of the clients (default $DOCKER_CERT_PATH/ca.pem, else ~/.docker/ca.pem)
      --tlscert FILE       the daemon's certificate (default …/cert.pem)
      --tlskey FILE        the daemon's key (default …/key.pem)
      --unsafe-no-tls      allow tcp:// without TLS: anyone who reaches the port is root on this machine
  -G, --group GROUP        group of the unix socket (mode 0660), as dockerd's -G
      --no-busybox         do not make the default busybox image at start
      --userns-remap default|USER[:GROUP]  run containers in a user namespace: their root is the first id of USER's
                           ranges in /etc/subuid and /etc/subgid (default: the mini-docker user, made with its
                           ranges when missing); a container opts out with --userns host
      --insecure-registry HOST[:PORT]  speak plain HTTP to this registry, repeatable (env MINI_DOCKER_INSECURE_REGISTRIES,
                           comma-separated); 127.0.0.0/8 always is
      --registry-certs-dir DIR  CAs per registry as DIR/<host:port>/ca.crt (env MINI_DOCKER_REGISTRY_CERTS_DIR,
                           default /etc/docker/certs.d)
      --registry-timeout SECONDS  how long a registry may stay silent before a pull or push fails
                           (env MINI_DOCKER_REGISTRY_TIMEOUT, default 30)
      --dns IP[:PORT]      where the embedded resolver of user networks forwards names it does not know,
                           repeatable, as dockerd's --dns (default: the nameservers of /etc/resolv.conf)
      --stats-history SECONDS  read every running container's stats this often and keep the readings a day, for the
                           UI's past (env MINI_DOCKER_STATS_HISTORY, default 10; 0 turns it off)
  -v, --version            print the version and exit
  -h, --help               print this help and exit
`;

/** What the daemon was asked to do by its flags and environment. */
export interface DaemonOptions {
  readonly help: boolean;
  readonly version: boolean;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly socketPath: string;
  readonly pidFile: string;
  readonly tcp: readonly TcpListenerConfig[];
  readonly socketGroup: string | undefined;
  readonly builtinBusybox: boolean;
  /** How registries are reached: --insecure-registry, --registry-certs-dir, --registry-timeout. */
  readonly registries: { readonly insecureRegistries: readonly string[]; readonly certsDir: string; readonly timeoutMs: number };
  /** --dns: the embedded resolver's upstreams; undefined = the host's nameservers. */
  readonly dns: readonly string[] | undefined;
  /** --stats-history: milliseconds between two readings of the stats history (0: none kept). */
  readonly statsHistoryMs: number;
  /** `--userns-remap` as given (resolved against /etc/subuid at start), or undefined. */
  readonly usernsRemap: string | undefined;
}

/** Parses mini-dockerd's arguments; throws one line naming what is wrong. */
export function parseDaemonOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, home: string = homedir()): DaemonOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      'data-root': { type: 'string' }, 'exec-root': { type: 'string' }, host: { type: 'string', short: 'H', multiple: true },
      tls: { type: 'boolean' }, tlsverify: { type: 'boolean' }, tlscacert: { type: 'string' }, tlscert: { type: 'string' }, tlskey: { type: 'string' },
      'unsafe-no-tls': { type: 'boolean' }, group: { type: 'string', short: 'G' },
      'no-busybox': { type: 'boolean' }, version: { type: 'boolean', short: 'v' }, help: { type: 'boolean', short: 'h' },
      'insecure-registry': { type: 'string', multiple: true }, 'registry-certs-dir': { type: 'string' }, 'registry-timeout': { type: 'string' },
      dns: { type: 'string', multiple: true },
      'stats-history': { type: 'string' },
      'userns-remap': { type: 'string' },
    },
  });
  const statsText = values['stats-history'] ?? env.MINI_DOCKER_STATS_HISTORY ?? '10';
  const statsSeconds = Number(statsText);
  if (!Number.isFinite(statsSeconds) || statsSeconds < 0 || (statsSeconds > 0 && statsSeconds < 0.1)) {
    throw new Error(`--stats-history ${statsText}: expected seconds between readings (0.1 or more), or 0 for none`);
  }
  const usernsRemap = values['userns-remap'];
  if (usernsRemap !== undefined) parseRemapFlag(usernsRemap); // a malformed value is refused here; users and ranges at start
  const timeoutText = values['registry-timeout'] ?? env.MINI_DOCKER_REGISTRY_TIMEOUT ?? '30';
  const timeoutSeconds = Number(timeoutText);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new Error(`--registry-timeout ${timeoutText}: expected a number of seconds above 0`);
  const registries = {
    insecureRegistries: [...(values['insecure-registry'] ?? []), ...(env.MINI_DOCKER_INSECURE_REGISTRIES ?? '').split(',').map((h) => h.trim()).filter((h) => h !== '')],
    certsDir: values['registry-certs-dir'] ?? env.MINI_DOCKER_REGISTRY_CERTS_DIR ?? '/etc/docker/certs.d',
    timeoutMs: Math.round(timeoutSeconds * 1000),
  };
  for (const d of values.dns ?? []) {
    if (!/^\d{1,3}(\.\d{1,3}){3}(:\d{1,5})?$/.test(d)) throw new Error(`--dns ${d}: expected an IPv4 address, optionally with :PORT`);
  }
  const wantsTls = values.tls === true || values.tlsverify === true;
  const endpoints = (values.host ?? []).map((h) => parseEndpoint(h, wantsTls));
  const unix = endpoints.filter((e) => e.kind === 'unix');
  if (unix.length > 1) throw new Error(`one unix socket at most (-H ${unix.map((u) => `unix://${u.path}`).join(', -H ')})`);
  const paths = resolveDaemonPaths({ dataRoot: values['data-root'], execRoot: values['exec-root'], host: unix[0] ? `unix://${unix[0].path}` : undefined }, env);
  const tcpHosts = endpoints.flatMap((e) => (e.kind === 'tcp' ? [e] : []));
  if (tcpHosts.length > 0 && !wantsTls && values['unsafe-no-tls'] !== true) {
    throw new Error(`refusing to serve tcp://${tcpHosts[0]!.host}:${tcpHosts[0]!.port} without TLS: anyone who reaches it would be root here; give --tlsverify with --tlscacert, --tlscert and --tlskey (or --unsafe-no-tls if you really mean it)`);
  }
  if (wantsTls && values['unsafe-no-tls'] === true) throw new Error('--unsafe-no-tls contradicts --tls/--tlsverify: choose one');
  const files = tlsFiles(values, env, home);
  const tcp: TcpListenerConfig[] = tcpHosts.map((e) => ({ host: e.host, port: e.port, tls: wantsTls ? { files, verifyClients: values.tlsverify === true } : null }));
  return {
    help: values.help === true,
    version: values.version === true,
    ...paths,
    tcp,
    socketGroup: values.group,
    builtinBusybox: values['no-busybox'] !== true,
    registries,
    dns: values.dns,
    statsHistoryMs: Math.round(statsSeconds * 1000),
    usernsRemap,
  };
}
