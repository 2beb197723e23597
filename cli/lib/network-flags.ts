/**
 * The networking flags of run and create as pure parsers, in the docker CLI's words and exit code
 * (125): `-p/--publish`, `--expose`, `--network`, `--network-alias`, `--ip`, `--dns`, `--dns-search`,
 * `--dns-option`, `--add-host`, `--hostname`. They produce Docker's API fields (HostConfig.PortBindings,
 * Config.ExposedPorts, HostConfig.NetworkMode, ExtraHosts, Dns, DnsSearch, DnsOptions,
 * NetworkingConfig). The commands are wired to them separately.
 */
import { CliError } from './errors.js';
import { isIpv4 } from '../../core/network/ipv4.js';
import { isHostname } from '../../core/network/container-files.js';

export interface PortBinding {
  readonly HostIp: string;
  readonly HostPort: string;
}

export interface PublishedPorts {
  /** "80/tcp" → bindings, Docker's HostConfig.PortBindings. */
  readonly PortBindings: Readonly<Record<string, readonly PortBinding[]>>;
  /** "80/tcp" → {}, Docker's Config.ExposedPorts. */
  readonly ExposedPorts: Readonly<Record<string, Record<string, never>>>;
}

const flagError = (value: string, flag: string, why: string): CliError =>
  new CliError(`invalid argument "${value}" for "${flag}" flag: ${why}`, 125);

/** "80" or "8000-8010" → [first, last]; null when not a port or range of ports 1-65535 (0 allowed for host ports). */
function parseRange(text: string, allowZero = false): [number, number] | null {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  if (!m) return null;
  const first = Number(m[1]);
  const last = m[2] !== undefined ? Number(m[2]) : first;
  const min = allowZero ? 0 : 1;
  if (first < min || last < min || first > 65535 || last > 65535 || last < first) return null;
  return [first, last];
}

function splitProto(text: string): { port: string; proto: string } {
  const slash = text.lastIndexOf('/');
  return slash < 0 ? { port: text, proto: 'tcp' } : { port: text.slice(0, slash), proto: text.slice(slash + 1).toLowerCase() };
}

/** Splits "[IP:][HOSTPORT:]CONTAINERPORT" (IPv6 in brackets) into its parts. */
function splitSpec(spec: string): { ip: string; host: string; container: string } | null {
  let rest = spec;
  let ip = '';
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']:');
    if (close < 0) return null;
    ip = rest.slice(1, close);
    rest = rest.slice(close + 2);
    const parts = rest.split(':');
    if (parts.length === 1) return { ip, host: '', container: parts[0]! };
    if (parts.length === 2) return { ip, host: parts[0]!, container: parts[1]! };
    return null;
  }
  const parts = rest.split(':');
  if (parts.length === 1) return { ip, host: '', container: parts[0]! };
  if (parts.length === 2) return { ip, host: parts[0]!, container: parts[1]! };
  if (parts.length === 3) return { ip: parts[0]!, host: parts[1]!, container: parts[2]! };
  return null;
}

/**
 * `-p [IP:][HOSTPORT:]CONTAINERPORT[/tcp|udp]`, repeatable, with ranges: `8000-8001:80-81` maps one
 * to one, `8000-8010:80` lets the daemon pick one host port of the range, `80-81` random host ports.
 */
export function parsePublish(values: readonly string[]): PublishedPorts {
  const bindings: Record<string, PortBinding[]> = {};
  const exposed: Record<string, Record<string, never>> = {};
  for (const value of values) {
    const bad = (why: string): CliError => flagError(value, '-p, --publish', why);
    const { port: spec, proto } = splitProto(value);
    if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') throw bad(`invalid proto: ${proto}`);
    if (proto === 'sctp') throw bad('sctp ports are not supported: publish tcp or udp');
    const parts = splitSpec(spec);
    if (!parts) throw bad(`invalid port specification: "${value}"`);
    if (parts.ip !== '' && !isIpv4(parts.ip) && !/^[0-9a-fA-F:]+$/.test(parts.ip)) throw bad(`invalid IP address: ${parts.ip}`);
    if (parts.container === '') throw bad(`no port specified: ${value}<empty>`);
    const container = parseRange(parts.container);
    if (!container) throw bad(`invalid containerPort: ${parts.container}`);
    const host = parts.host === '' ? null : parseRange(parts.host, true);
    if (parts.host !== '' && !host) throw bad(`invalid hostPort: ${parts.host}`);
    const containerCount = container[1] - container[0] + 1;
    const hostCount = host ? host[1] - host[0] + 1 : 0;
    if (host && containerCount > 1 && hostCount !== containerCount) {
      throw bad(`invalid ranges specified for container and host Ports: ${parts.container} and ${parts.host}`);
    }
    for (let i = 0; i < containerCount; i++) {
      const key = `${container[0] + i}/${proto}`;
      exposed[key] = {};
      let hostPort = '';
      if (host) hostPort = containerCount === 1 && hostCount > 1 ? `${host[0]}-${host[1]}` : `${host[0] + i}`;
      (bindings[key] ??= []).push({ HostIp: parts.ip, HostPort: hostPort });
    }
  }
  return { PortBindings: bindings, ExposedPorts: exposed };
}

/** `--expose PORT[-PORT][/proto]`, repeatable: Config.ExposedPorts. */
export function parseExpose(values: readonly string[]): Readonly<Record<string, Record<string, never>>> {
  const exposed: Record<string, Record<string, never>> = {};
  for (const value of values) {
    const { port, proto } = splitProto(value);
    if (proto !== 'tcp' && proto !== 'udp') throw flagError(value, '--expose', `invalid proto: ${proto}`);
    const range = parseRange(port);
    if (!range) throw flagError(value, '--expose', `invalid range format for --expose: ${value}`);
    for (let p = range[0]; p <= range[1]; p++) exposed[`${p}/${proto}`] = {};
  }
  return exposed;
}

export type NetworkMode =
  | { readonly kind: 'default' }
  | { readonly kind: 'none' }
  | { readonly kind: 'host' }
  | { readonly kind: 'container'; readonly container: string }
  /** The default bridge ("bridge") or a user network by name or id. */
  | { readonly kind: 'network'; readonly network: string };

/** `--network` (or `--net`): bridge, none, host, container:NAME|ID, or a network's name or id. */
export function parseNetworkMode(value: string | undefined): NetworkMode {
  if (value === undefined || value === '' || value === 'default') return { kind: 'default' };
  if (value === 'none') return { kind: 'none' };
  if (value === 'host') return { kind: 'host' };
  if (value.startsWith('container:')) {
    const container = value.slice('container:'.length);
    if (container === '') throw flagError(value, '--network', 'container: needs a container name or id');
    return { kind: 'container', container };
  }
  return { kind: 'network', network: value };
}

/** HostConfig.NetworkMode as Docker sends it for a parsed mode. */
export function networkModeField(mode: NetworkMode): string {
  switch (mode.kind) {
    case 'default': return 'default';
    case 'none': return 'none';
    case 'host': return 'host';
    case 'container': return `container:${mode.container}`;
    case 'network': return mode.network;
  }
}

/**
 * NetworkingConfig.EndpointsConfig for `--network NAME --network-alias A --ip X`: only a user
 * network takes aliases and a fixed address, in the docker daemon's words.
 */
export function endpointConfig(mode: NetworkMode, aliases: readonly string[], ip: string | undefined):
  Readonly<Record<string, { Aliases?: readonly string[]; IPAMConfig?: { IPv4Address: string } }>> {
  if (ip !== undefined && !isIpv4(ip)) throw flagError(ip, '--ip', `invalid string being converted to IP address: ${ip}`);
  const userNetwork = mode.kind === 'network' && mode.network !== 'bridge';
  if (aliases.length > 0 && !userNetwork) throw new CliError('network-scoped alias is supported only for containers in user defined networks', 125);
  if (ip !== undefined && !userNetwork) throw new CliError('user specified IP address is supported on user defined networks only', 125);
  if (mode.kind !== 'network') return {};
  return {
    [mode.network]: {
      ...(aliases.length > 0 ? { Aliases: aliases } : {}),
      ...(ip !== undefined ? { IPAMConfig: { IPv4Address: ip } } : {}),
    },
  };
}

/** `--dns IP`, repeatable. */
export function parseDns(values: readonly string[]): string[] {
  for (const v of values) if (!isIpv4(v) && !/^[0-9a-fA-F:]+:[0-9a-fA-F:]*$/.test(v)) throw flagError(v, '--dns', `IP address is not correctly formatted: ${v}`);
  return [...values];
}

/** `--dns-search DOMAIN`, repeatable; "." alone means no search list. */
export function parseDnsSearch(values: readonly string[]): string[] {
  for (const v of values) {
    if (v === '.') continue;
    const domain = v.replace(/\.$/, '');
    if (domain.length > 255 || !/^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/.test(domain)) {
      throw flagError(v, '--dns-search', `${v} is not a valid domain`);
    }
  }
  return [...values];
}

/**
 * `--add-host HOST:IP` (or HOST=IP), repeatable; IP may be "host-gateway" (the gateway of the
 * container's network). Returned as Docker's ExtraHosts strings, "HOST:IP".
 */
export function parseAddHost(values: readonly string[]): string[] {
  return values.map((v) => {
    const at = v.search(/[:=]/);
    if (at <= 0) throw flagError(v, '--add-host', `bad format for add-host: "${v}"`);
    const host = v.slice(0, at);
    let ip = v.slice(at + 1);
    if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
    if (!/^[a-zA-Z0-9._-]+$/.test(host)) throw flagError(v, '--add-host', `bad format for add-host: "${v}"`);
    if (ip !== 'host-gateway' && !isIpv4(ip) && !/^[0-9a-fA-F:]+:[0-9a-fA-F:]*$/.test(ip)) {
      throw flagError(v, '--add-host', `invalid IP address in add-host: "${ip}"`);
    }
    return `${host}:${ip}`;
  });
}

/** `-h/--hostname`: RFC 1123 labels (letters, digits, "-"), dot-separated, at most 63 characters each. */
export function parseHostname(value: string): string {
  if (!isHostname(value)) {
    throw flagError(value, '-h, --hostname', 'a hostname is letters, digits and "-" in dot-separated labels of at most 63 characters');
  }
  return value;
}
