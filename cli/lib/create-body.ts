import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { DeviceMapping, Limits } from '../../events/index.js';
import { bytesIn } from '../../core/limits/bytes.js';
import { parseDeviceFlag } from '../../core/security/container-security.js';
import { looksLikeTarPath } from '../../core/images/image-reference.js';
import { environmentFrom } from './env-flags.js';
import { CliError } from './errors.js';
import type { LimitFlagValues } from './limit-values.js';
import { limitsFromFlags } from './limit-values.js';
import {
  endpointConfig, networkModeField, parseAddHost, parseDns, parseDnsSearch, parseExpose, parseHostname, parseNetworkMode, parsePublish,
  type PortBinding,
} from './network-flags.js';

// What run and create send, from parsed flag values, apart from the flag definitions
// (container-flags.ts) so that code which does not load oclif can use it (cli/fast-path.ts).

/** Values of `createFlags` after parsing. */
export interface CreateFlagValues extends LimitFlagValues {
  readonly interactive: boolean;
  readonly tty: boolean;
  readonly attach?: readonly string[];
  readonly env?: readonly string[];
  readonly 'env-file'?: readonly string[];
  readonly name?: string;
  readonly rm: boolean;
  readonly workdir?: string;
  readonly hostname?: string;
  readonly user?: string;
  readonly entrypoint?: string;
  readonly label?: readonly string[];
  readonly 'log-driver'?: string;
  readonly 'log-opt'?: readonly string[];
  readonly volume?: readonly string[];
  readonly mount?: readonly string[];
  readonly 'volumes-from'?: readonly string[];
  readonly restart?: string;
  readonly 'security-opt'?: readonly string[];
  readonly 'cap-add'?: readonly string[];
  readonly 'cap-drop'?: readonly string[];
  readonly privileged?: boolean;
  readonly 'read-only'?: boolean;
  readonly tmpfs?: readonly string[];
  readonly device?: readonly string[];
  readonly userns?: string;
  readonly publish?: readonly string[];
  readonly 'publish-all'?: boolean;
  readonly expose?: readonly string[];
  readonly network?: string;
  readonly 'network-alias'?: readonly string[];
  readonly ip?: string;
  readonly dns?: readonly string[];
  readonly 'dns-search'?: readonly string[];
  readonly 'dns-option'?: readonly string[];
  readonly 'add-host'?: readonly string[];
}

/** Which streams a `run` attaches: -a as given, else stdout+stderr (+stdin with -i); none when detached. */
export interface AttachChoice {
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
}

export function attachChoice(flags: Pick<CreateFlagValues, 'attach' | 'interactive'>, detach: boolean, exitCode: number): AttachChoice {
  const given = (flags.attach ?? []).map((a) => a.toLowerCase());
  if (detach) {
    if (given.length > 0) throw new CliError('Conflicting options: -a and -d', exitCode);
    return { stdin: false, stdout: false, stderr: false };
  }
  if (given.length > 0) return { stdin: given.includes('stdin'), stdout: given.includes('stdout'), stderr: given.includes('stderr') };
  return { stdin: flags.interactive, stdout: true, stderr: true };
}

function keyValues(values: readonly string[] | undefined, what: string, exitCode: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const eq = v.indexOf('=');
    if (eq <= 0) {
      if (what === 'label' && v.trim() !== '') {
        out[v.trim()] = '';
        continue;
      }
      throw new CliError(`invalid ${what} ${JSON.stringify(v)}: use KEY=value`, exitCode);
    }
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

/** The body of `POST /containers/create`: Docker's Config with HostConfig inside. */
export interface CreateBody {
  readonly Image: string;
  readonly Cmd: readonly string[] | null;
  readonly Entrypoint: readonly string[] | null;
  readonly Env: readonly string[] | null;
  readonly WorkingDir: string;
  readonly User: string;
  readonly Hostname: string;
  readonly Labels: Readonly<Record<string, string>>;
  readonly ExposedPorts?: Readonly<Record<string, Record<string, never>>>;
  readonly Tty: boolean;
  readonly OpenStdin: boolean;
  readonly StdinOnce: boolean;
  readonly AttachStdin: boolean;
  readonly AttachStdout: boolean;
  readonly AttachStderr: boolean;
  readonly HostConfig: Limits & {
    readonly AutoRemove: boolean;
    readonly ConsoleSize: readonly [number, number];
    readonly LogConfig: { readonly Type: string; readonly Config: Readonly<Record<string, string>> };
    readonly NetworkMode: string;
    readonly Binds?: readonly string[];
    readonly Mounts?: readonly MountEntry[];
    readonly VolumesFrom?: readonly string[];
    readonly RestartPolicy?: { readonly Name: string; readonly MaximumRetryCount: number };
    readonly CapAdd?: readonly string[];
    readonly CapDrop?: readonly string[];
    readonly Privileged?: boolean;
    readonly ReadonlyRootfs?: boolean;
    readonly Tmpfs?: Readonly<Record<string, string>>;
    readonly Devices?: readonly DeviceMapping[];
    readonly PortBindings?: Readonly<Record<string, readonly PortBinding[]>>;
    readonly PublishAllPorts?: boolean;
    readonly Dns?: readonly string[];
    readonly DnsSearch?: readonly string[];
    readonly DnsOptions?: readonly string[];
    readonly ExtraHosts?: readonly string[];
  };
  readonly NetworkingConfig?: { readonly EndpointsConfig: ReturnType<typeof endpointConfig> };
}

/** `--restart no|always|unless-stopped|on-failure[:N]` as the API's RestartPolicy (the daemon checks the name). */
export function restartPolicyFlag(value: string | undefined, rm: boolean, exitCode: number): { Name: string; MaximumRetryCount: number } | undefined {
  if (value === undefined) return undefined;
  const colon = value.indexOf(':');
  const name = colon === -1 ? value : value.slice(0, colon);
  const count = colon === -1 ? '' : value.slice(colon + 1);
  if (count !== '' && !/^\d+$/.test(count)) throw new CliError(`invalid restart policy format: maximum retry count must be an integer: "${count}"`, exitCode);
  if (name !== '' && name !== 'no' && rm) throw new CliError('Conflicting options: --restart and --rm', exitCode);
  return { Name: name, MaximumRetryCount: count === '' ? 0 : Number(count) };
}

/** A `--mount` as the API carries it. */
export interface MountEntry {
  readonly Type: string;
  readonly Source: string;
  readonly Target: string;
  readonly ReadOnly: boolean;
  readonly TmpfsOptions?: { readonly SizeBytes?: number; readonly Mode?: number };
  /** type=volume with volume-nocopy. */
  readonly VolumeOptions?: { readonly NoCopy: boolean };
}

/**
 * A `-v` value with a relative host path (`./data:/data`) made absolute, since the daemon runs in
 * another directory; absolute paths and volume names go as they are (the daemon says what it takes).
 */
export function absoluteBind(spec: string, cwd: string): string {
  const colon = spec.indexOf(':');
  if (colon <= 0) return spec;
  const source = spec.slice(0, colon);
  if (isAbsolute(source) || !(source.startsWith('.') || source.includes('/'))) return spec;
  return `${resolve(cwd, source)}${spec.slice(colon)}`;
}

/** One `--mount` value, Docker's CSV form: type=bind,source=/a,target=/b[,readonly], type=volume,src=NAME,dst=/b[,readonly][,volume-nocopy] or type=tmpfs,target=/b[,tmpfs-size=64m,tmpfs-mode=1777]. */
export function parseMountFlag(value: string, cwd: string, exitCode: number): MountEntry {
  const bad = (why: string): CliError => new CliError(`invalid argument "${value}" for "--mount" flag: ${why}`, exitCode);
  let type = 'volume';
  let source = '';
  let target = '';
  let readOnly = false;
  let sizeBytes: number | undefined;
  let mode: number | undefined;
  let noCopy = false;
  for (const field of value.split(',')) {
    const eq = field.indexOf('=');
    const key = (eq === -1 ? field : field.slice(0, eq)).trim().toLowerCase();
    const v = eq === -1 ? undefined : field.slice(eq + 1);
    if (key === 'readonly' || key === 'ro') {
      if (v !== undefined && !['1', 'true', '0', 'false'].includes(v.toLowerCase())) throw bad(`invalid value for ${key}: ${v}`);
      readOnly = v === undefined || ['1', 'true'].includes(v.toLowerCase());
      continue;
    }
    if (key === 'volume-nocopy') {
      if (v !== undefined && !['1', 'true', '0', 'false'].includes(v.toLowerCase())) throw bad(`invalid value for ${key}: ${v}`);
      noCopy = v === undefined || ['1', 'true'].includes(v.toLowerCase());
      continue;
    }
    if (v === undefined) throw bad(`invalid field '${field}' must be a key=value pair`);
    if (key === 'type') type = v;
    else if (key === 'source' || key === 'src') source = v;
    else if (key === 'target' || key === 'destination' || key === 'dst') target = v;
    else if (key === 'bind-propagation' && (v === 'rprivate' || v === 'private')) continue;
    else if (key === 'tmpfs-size') {
      const bytes = bytesIn(v);
      if (bytes === null || bytes <= 0) throw bad(`invalid value for tmpfs-size: ${v}`);
      sizeBytes = bytes;
    } else if (key === 'tmpfs-mode') {
      if (!/^[0-7]{1,4}$/.test(v)) throw bad(`invalid value for tmpfs-mode: ${v} (octal permission bits, e.g. 1777)`);
      mode = Number.parseInt(v, 8);
    } else throw bad(`unexpected key '${key}' in '${field}'`);
  }
  if (target === '') throw bad('target is required');
  if ((sizeBytes !== undefined || mode !== undefined) && type !== 'tmpfs') throw bad(`cannot mix 'tmpfs-*' options with mount type '${type}'`);
  if (noCopy && type !== 'volume') throw bad('volume-nocopy is only for type=volume');
  if (type === 'bind' && source !== '' && !isAbsolute(source)) source = resolve(cwd, source);
  const tmpfs = sizeBytes !== undefined || mode !== undefined ? { TmpfsOptions: { ...(sizeBytes !== undefined ? { SizeBytes: sizeBytes } : {}), ...(mode !== undefined ? { Mode: mode } : {}) } } : {};
  return { Type: type, Source: source, Target: target, ReadOnly: readOnly, ...tmpfs, ...(noCopy ? { VolumeOptions: { NoCopy: true } } : {}) };
}

/**
 * IMAGE as the daemon must see it: a tarball path (`./busybox.tar`, `images/x.tar`, `~/x.tar`)
 * made absolute, since the daemon runs in another directory; names and ids as they are.
 */
export function absoluteTarPath(image: string, cwd: string): string {
  if (!looksLikeTarPath(image) || isAbsolute(image)) return image;
  if (image.startsWith('~/')) return join(homedir(), image.slice(2));
  return resolve(cwd, image);
}

/** Everything `run`/`create` send, from the parsed flags, IMAGE and CMD. */
export function createBody(options: {
  readonly image: string;
  readonly cmd: readonly string[];
  readonly flags: CreateFlagValues;
  readonly detach: boolean;
  readonly consoleSize: readonly [number, number];
  readonly exitCode: number;
  readonly env?: NodeJS.ProcessEnv;
  /** Where a relative tarball path is found (the CLI's working directory). */
  readonly cwd?: string;
}): CreateBody {
  const { flags, exitCode } = options;
  const cwd = options.cwd ?? process.cwd();
  const attach = attachChoice(flags, options.detach, exitCode);
  const restart = restartPolicyFlag(flags.restart, flags.rm, exitCode);
  let env: string[];
  try {
    env = environmentFrom(flags['env-file'] ?? [], flags.env ?? [], options.env ?? process.env);
  } catch (err) {
    throw new CliError((err as Error).message, exitCode);
  }
  const net = networkFields(flags);
  return {
    Image: absoluteTarPath(options.image, cwd),
    Cmd: options.cmd.length > 0 ? [...options.cmd] : null,
    Entrypoint: flags.entrypoint === undefined ? null : flags.entrypoint === '' ? [''] : [flags.entrypoint],
    Env: env.length > 0 ? env : null,
    WorkingDir: flags.workdir ?? '',
    User: flags.user ?? '',
    Hostname: flags.hostname !== undefined ? parseHostname(flags.hostname) : '',
    Labels: keyValues(flags.label, 'label', exitCode),
    ...(Object.keys(net.exposed).length > 0 ? { ExposedPorts: net.exposed } : {}),
    Tty: flags.tty,
    OpenStdin: flags.interactive,
    StdinOnce: flags.interactive && attach.stdin,
    AttachStdin: attach.stdin,
    AttachStdout: attach.stdout,
    AttachStderr: attach.stderr,
    HostConfig: {
      ...limitsFromFlags(flags, exitCode),
      AutoRemove: flags.rm,
      ConsoleSize: flags.tty ? options.consoleSize : [0, 0],
      LogConfig: { Type: flags['log-driver'] ?? '', Config: keyValues(flags['log-opt'], 'log option', exitCode) },
      NetworkMode: net.networkMode,
      ...net.hostConfig,
      ...(flags.volume?.length ? { Binds: flags.volume.map((v) => absoluteBind(v, cwd)) } : {}),
      ...(flags.mount?.length ? { Mounts: flags.mount.map((m) => parseMountFlag(m, cwd, exitCode)) } : {}),
      ...(flags['volumes-from']?.length ? { VolumesFrom: [...flags['volumes-from']] } : {}),
      ...(restart ? { RestartPolicy: restart } : {}),
      ...(flags['security-opt']?.length ? { SecurityOpt: flags['security-opt'].map((o) => securityOptFlag(o, cwd, exitCode)) } : {}),
      ...(flags['cap-add']?.length ? { CapAdd: [...flags['cap-add']] } : {}),
      ...(flags['cap-drop']?.length ? { CapDrop: [...flags['cap-drop']] } : {}),
      ...(flags.privileged ? { Privileged: true } : {}),
      ...(flags['read-only'] ? { ReadonlyRootfs: true } : {}),
      ...(flags.tmpfs?.length ? { Tmpfs: tmpfsFlags(flags.tmpfs) } : {}),
      ...(flags.device?.length ? { Devices: flags.device.map((d) => deviceFlag(d, exitCode)) } : {}),
      ...(flags.userns ? { UsernsMode: flags.userns } : {}),
    },
    ...(Object.keys(net.endpoints).length > 0 ? { NetworkingConfig: { EndpointsConfig: net.endpoints } } : {}),
  };
}

/** The networking flags (cli/lib/network-flags.ts parses them, in the docker CLI's words) as the API's fields. */
function networkFields(flags: CreateFlagValues): {
  networkMode: string; exposed: Record<string, Record<string, never>>; endpoints: ReturnType<typeof endpointConfig>;
  hostConfig: Pick<CreateBody['HostConfig'], 'PortBindings' | 'PublishAllPorts' | 'Dns' | 'DnsSearch' | 'DnsOptions' | 'ExtraHosts'>;
} {
  const mode = parseNetworkMode(flags.network);
  const published = parsePublish(flags.publish ?? []);
  const exposed = { ...parseExpose(flags.expose ?? []), ...published.ExposedPorts };
  const dns = parseDns(flags.dns ?? []);
  const dnsSearch = parseDnsSearch(flags['dns-search'] ?? []);
  const extraHosts = parseAddHost(flags['add-host'] ?? []);
  const dnsOptions = flags['dns-option'] ?? [];
  return {
    networkMode: networkModeField(mode),
    exposed,
    endpoints: endpointConfig(mode, flags['network-alias'] ?? [], flags.ip),
    hostConfig: {
      ...(Object.keys(published.PortBindings).length > 0 ? { PortBindings: published.PortBindings } : {}),
      ...(flags['publish-all'] ? { PublishAllPorts: true } : {}),
      ...(dns.length > 0 ? { Dns: dns } : {}),
      ...(dnsSearch.length > 0 ? { DnsSearch: dnsSearch } : {}),
      ...(dnsOptions.length > 0 ? { DnsOptions: [...dnsOptions] } : {}),
      ...(extraHosts.length > 0 ? { ExtraHosts: extraHosts } : {}),
    },
  };
}

/** `--tmpfs /path[:options]` values as the API's Tmpfs map (the daemon checks paths and options, as Docker's). */
export function tmpfsFlags(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const colon = v.indexOf(':');
    out[colon === -1 ? v : v.slice(0, colon)] = colon === -1 ? '' : v.slice(colon + 1);
  }
  return out;
}

/** `--device HOST[:CONTAINER[:PERMISSIONS]]` as the docker CLI parses it. */
export function deviceFlag(value: string, exitCode: number): DeviceMapping {
  try {
    return parseDeviceFlag(value);
  } catch (err) {
    throw new CliError(`invalid argument "${value}" for "--device" flag: ${(err as Error).message}`, exitCode);
  }
}

/**
 * `--security-opt` as the docker CLI sends it: `seccomp=FILE` becomes `seccomp=<the file's JSON>`
 * (the daemon never reads the client's files); `seccomp=unconfined` and the rest go as given.
 */
export function securityOptFlag(value: string, cwd: string, exitCode: number): string {
  const m = /^seccomp[=:]([\s\S]+)$/.exec(value);
  if (!m || m[1] === 'unconfined' || m[1]!.trimStart().startsWith('{')) return value;
  const file = resolve(cwd, m[1]!);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`opening seccomp profile (${m[1]}) failed: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, exitCode);
  }
  try {
    JSON.parse(text);
  } catch (err) {
    throw new CliError(`seccomp profile ${m[1]} is not valid JSON: ${(err as Error).message}`, exitCode);
  }
  return `seccomp=${text}`;
}
