/**
 * A container's /etc/hosts, /etc/hostname and /etc/resolv.conf: written by the start's network step
 * (container-network-attach.ts) into the container's own folder and bound in by the isolator; with
 * `--network host` the host's own files, copied, as Docker does.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { hostname as hostHostname } from 'node:os';
import { join } from 'node:path';
import { containerHostname, extraHostsFrom, hostnameFile, hostsFile, resolvConf } from '../network/container-files.js';
import type { BindSpec } from '../plugins/driver.js';
import type { ContainerState } from '../state/engine-state.js';
import type { WiredEndpoint } from './container-endpoints.js';
import { InvalidArgumentError } from './errors.js';

/** The container's own files (written at each start) as binds. */
export function fileBinds(dir: string): BindSpec[] {
  return [
    { source: join(dir, 'hosts'), target: '/etc/hosts', readOnly: false },
    { source: join(dir, 'hostname'), target: '/etc/hostname', readOnly: false },
    { source: join(dir, 'resolv.conf'), target: '/etc/resolv.conf', readOnly: false },
  ];
}

/** --network container:NAME: the other container's files, as Docker shares them. */
export function sharedFiles(dir: string): BindSpec[] {
  return fileBinds(dir).filter((b) => existsSync(b.source));
}

export async function hostResolvConf(): Promise<string> {
  try {
    return await readFile('/etc/resolv.conf', 'utf8');
  } catch {
    return '';
  }
}

export async function writeFiles(dir: string, c: ContainerState, endpoints: readonly WiredEndpoint[], primary: WiredEndpoint | null): Promise<BindSpec[]> {
  const hostname = containerHostname(c.id, c.config.Hostname);
  const gateway = primary?.network.gateway ?? '';
  const extraHosts = c.hostConfig.ExtraHosts ?? [];
  if (gateway === '' && extraHosts.some((h) => h.endsWith(':host-gateway'))) {
    throw new InvalidArgumentError('--add-host host-gateway needs a network with a gateway: not with --network none');
  }
  const resolver = primary && primary.network.dns ? primary.network.gateway : null;
  // Read before the writes start: a write that fails (a full disk) while Promise.all is not yet
  // watching it would be an unhandled rejection, which ends the daemon.
  const host = await hostResolvConf();
  await Promise.all([
    writeFile(join(dir, 'hosts'), hostsFile({ hostname, addresses: endpoints.map((e) => ({ ip: e.endpoint.ip, aliases: e.endpoint.aliases })), extraHosts: extraHostsFrom(extraHosts, gateway) })),
    writeFile(join(dir, 'hostname'), hostnameFile(hostname)),
    writeFile(join(dir, 'resolv.conf'), resolvConf({
      host, dns: c.hostConfig.Dns ?? [], dnsSearch: c.hostConfig.DnsSearch ?? [],
      dnsOptions: c.hostConfig.DnsOptions ?? [], embeddedResolver: resolver,
    })),
  ]);
  return fileBinds(dir);
}

/** --network host: the host's own files, copied (as Docker). */
export async function writeHostFiles(dir: string): Promise<BindSpec[]> {
  const read = async (path: string, fallback: string): Promise<string> => readFile(path, 'utf8').catch(() => fallback);
  const [hosts, resolv] = await Promise.all([read('/etc/hosts', '127.0.0.1\tlocalhost\n'), hostResolvConf()]);
  await Promise.all([
    writeFile(join(dir, 'hosts'), hosts),
    writeFile(join(dir, 'hostname'), hostnameFile(hostHostname())),
    writeFile(join(dir, 'resolv.conf'), resolv),
  ]);
  return fileBinds(dir);
}
