/**
 * What a container's /etc/hosts, /etc/hostname and /etc/resolv.conf say, as pure functions in
 * Docker's formats; the shim binds the files into the container (docs/networking.md).
 */
import { isIpv4 } from './ipv4.js';

/** One of the container's addresses, with the aliases it has on that network. */
export interface HostsAddress {
  readonly ip: string;
  readonly aliases?: readonly string[];
}

export interface HostsInput {
  readonly hostname: string;
  /** The container's addresses, its first network first; the hostname (and that network's aliases) map to each. */
  readonly addresses: readonly HostsAddress[];
  /** --add-host entries, in order: "host-gateway" already replaced by the gateway's address. */
  readonly extraHosts: readonly { readonly name: string; readonly ip: string }[];
}

/** /etc/hosts: localhost and the IPv6 names, the --add-host entries, then the container's own name. */
export function hostsFile(input: HostsInput): string {
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::\tip6-localnet',
    'ff00::\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
    ...input.extraHosts.map((h) => `${h.ip}\t${h.name}`),
    ...input.addresses.map((a) => hostsEntry(input.hostname, a)),
  ];
  return lines.join('\n') + '\n';
}

/** The longest network alias taken (a DNS name's limit). */
export const MAX_ALIAS_LENGTH = 255;

/** A host name as `-h/--hostname` takes it: RFC 1123 labels (letters, digits, "-"), dot-separated, at most 63 characters each, 255 in all. */
export function isHostname(value: string): boolean {
  const label = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;
  return value.length <= 255 && value.split('.').every((l) => label.test(l));
}

/**
 * Why `alias` is no network alias, or null when it is one: a DNS name, 1 to 255 ASCII letters, digits,
 * '-', '_' and '.' (no whitespace or control character, so that it cannot add lines or names to
 * /etc/hosts or to the embedded resolver's answers).
 */
export function aliasProblem(alias: string): string | null {
  if (alias.length === 0) return 'invalid network alias "": a name of 1 to 255 ASCII letters, digits, \'-\', \'_\' or \'.\' is expected';
  if (alias.length > MAX_ALIAS_LENGTH) return `invalid network alias ${JSON.stringify(alias.slice(0, 40) + '...')}: it is ${alias.length} characters long, at most ${MAX_ALIAS_LENGTH} are allowed`;
  if (!/^[A-Za-z0-9_.-]+$/.test(alias)) return `invalid network alias ${JSON.stringify(alias)}: only ASCII letters, digits, '-', '_' and '.' are allowed`;
  return null;
}

/** Throws the first of `aliases` that is no network alias (aliasProblem's message). */
export function checkAliases(aliases: readonly string[]): void {
  for (const alias of aliases) {
    const problem = aliasProblem(alias);
    if (problem !== null) throw new Error(problem);
  }
}

/**
 * The line of /etc/hosts for one of the container's addresses: the address, its hostname, then its
 * aliases on that network. Throws on an alias that is no DNS name (one recorded before they were
 * checked): never a line break or a blank into the file.
 */
export function hostsEntry(hostname: string, address: HostsAddress): string {
  checkAliases(address.aliases ?? []);
  const names = [hostname, ...(address.aliases ?? []).filter((a) => a !== hostname)];
  return `${address.ip}\t${[...new Set(names)].join(' ')}`;
}

/**
 * /etc/hosts with the entry of an address the container just got (`network connect` of a running
 * container): appended, as Docker adds it, unless that very line is there; the rest of the file
 * (the container's own changes too) is kept.
 */
export function hostsWithEntry(text: string, hostname: string, address: HostsAddress): string {
  const line = hostsEntry(hostname, address);
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  if (lines.includes(line)) return text;
  return [...lines, line].join('\n') + '\n';
}

/**
 * /etc/hosts without the entries of an address the container lost (`network disconnect`): the
 * lines that map `ip` to its hostname, whatever aliases follow; the others are kept.
 */
export function hostsWithoutAddress(text: string, hostname: string, ip: string): string {
  const lines = text.replace(/\n$/, '').split('\n');
  const kept = lines.filter((l) => {
    const [first, ...names] = l.trim().split(/\s+/);
    return !(first === ip && names[0] === hostname);
  });
  if (kept.length === lines.length) return text;
  return kept.length === 0 ? '' : kept.join('\n') + '\n';
}

export function hostnameFile(hostname: string): string {
  return `${hostname}\n`;
}

/** The hostname of a container: --hostname, else the first 12 characters of its id (Docker's default). */
export function containerHostname(containerId: string, given?: string): string {
  return given !== undefined && given !== '' ? given : containerId.slice(0, 12);
}

export interface ResolvConfInput {
  /** The host's /etc/resolv.conf text. */
  readonly host: string;
  /** --dns */
  readonly dns: readonly string[];
  /** --dns-search ("." alone: no search list) */
  readonly dnsSearch: readonly string[];
  /** --dns-option */
  readonly dnsOptions: readonly string[];
  /** The embedded resolver's address on a user network (the gateway), or null (default bridge, none). */
  readonly embeddedResolver: string | null;
}

export interface HostResolvConf {
  readonly nameservers: readonly string[];
  readonly search: readonly string[];
  readonly options: readonly string[];
}

/** The nameserver, search and options lines of a resolv.conf. */
export function parseResolvConf(text: string): HostResolvConf {
  const nameservers: string[] = [];
  let search: string[] = [];
  let options: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...values] = line.split(/\s+/);
    if (key === 'nameserver' && values[0]) nameservers.push(values[0]);
    else if (key === 'search' || key === 'domain') search = values;
    else if (key === 'options') options = [...options, ...values];
  }
  return { nameservers, search, options };
}

/** Docker's fallback when the host has no nameserver a container can reach (only local ones). */
export const DEFAULT_NAMESERVERS: readonly string[] = ['8.8.8.8', '8.8.4.4'];

const isLocal = (ip: string): boolean => /^127\./.test(ip) || ip === '::1';

/**
 * /etc/resolv.conf as Docker writes it. On a user network the one nameserver is the embedded
 * resolver (which forwards to --dns or the daemon's upstreams) with `options ndots:0`; on the
 * default bridge the nameservers are --dns, else the host's minus loopback ones (they mean nothing
 * inside the container's namespace), else Docker's defaults. --dns-search and --dns-option replace
 * the host's search list and options.
 */
export function resolvConf(input: ResolvConfInput): string {
  const host = parseResolvConf(input.host);
  const search = input.dnsSearch.length > 0 ? (input.dnsSearch.length === 1 && input.dnsSearch[0] === '.' ? [] : input.dnsSearch) : host.search;
  const lines: string[] = [];
  let options = input.dnsOptions.length > 0 ? [...input.dnsOptions] : [...host.options];
  if (input.embeddedResolver !== null) {
    lines.push(`nameserver ${input.embeddedResolver}`);
    if (!options.some((o) => o.startsWith('ndots:'))) options = ['ndots:0', ...options];
  } else {
    const fromHost = host.nameservers.filter((ip) => !isLocal(ip) && isIpv4(ip));
    const servers = input.dns.length > 0 ? input.dns : fromHost.length > 0 ? fromHost : DEFAULT_NAMESERVERS;
    for (const ip of servers) lines.push(`nameserver ${ip}`);
  }
  if (search.length > 0) lines.push(`search ${search.join(' ')}`);
  if (options.length > 0) lines.push(`options ${options.join(' ')}`);
  if (input.embeddedResolver !== null) {
    const upstream = input.dns.length > 0 ? input.dns : host.nameservers;
    lines.push('', `# Based on host file: '/etc/resolv.conf' (internal resolver)`, `# ExtServers: [${upstream.join(' ')}]`);
  }
  return lines.join('\n') + '\n';
}

/**
 * HostConfig.ExtraHosts ("HOST:IP", as `--add-host` sends them; IPv6 after the first colon) as
 * hosts entries, "host-gateway" replaced by `gateway` (the container's network's gateway).
 */
export function extraHostsFrom(extraHosts: readonly string[], gateway: string): { name: string; ip: string }[] {
  return extraHosts.map((entry) => {
    const at = entry.indexOf(':');
    if (at <= 0) throw new Error(`invalid ExtraHosts entry ${JSON.stringify(entry)}: expected HOST:IP`);
    const ip = entry.slice(at + 1);
    return { name: entry.slice(0, at), ip: ip === 'host-gateway' ? gateway : ip };
  });
}
