/**
 * Which host ports are allocated, from the fold: every port a container has published and not yet
 * unpublished. A request conflicts with one of them when protocol and port match and either binds
 * every address (0.0.0.0) or both bind the same one (Docker's "port is already allocated").
 */
import type { PublishedPort } from '../../events/index.js';
import type { PortRequest } from '../plugins/network-driver.js';
import type { NetworksState } from './network-state.js';

export function portsInUse(state: NetworksState, except?: string): PublishedPort[] {
  return Object.entries(state.published).filter(([id]) => id !== except).flatMap(([, p]) => p.ports);
}

export function portsConflict(a: Pick<PublishedPort, 'protocol' | 'hostIp' | 'hostPort'>, b: Pick<PublishedPort, 'protocol' | 'hostIp' | 'hostPort'>): boolean {
  return a.protocol === b.protocol && a.hostPort === b.hostPort && (a.hostIp === b.hostIp || a.hostIp === '0.0.0.0' || b.hostIp === '0.0.0.0');
}

/** One `HostConfig.PortBindings` entry as Docker's API carries it. */
export interface PortBindingField {
  readonly HostIp?: string;
  readonly HostPort?: string;
}

/**
 * The driver's requests for `HostConfig.PortBindings` ("80/tcp" → [{HostIp, HostPort}]): an empty
 * HostPort is a random port, "8000-8010" one port of the range; a key or port that is not valid
 * throws one line naming it.
 */
export function portRequestsFrom(bindings: Readonly<Record<string, readonly PortBindingField[] | null>>): PortRequest[] {
  const out: PortRequest[] = [];
  for (const [key, list] of Object.entries(bindings)) {
    const m = /^(\d{1,5})(?:\/(tcp|udp))?$/.exec(key);
    const containerPort = m ? Number(m[1]) : 0;
    if (!m || containerPort < 1 || containerPort > 65535) throw new Error(`invalid port binding ${JSON.stringify(key)}: expected PORT/tcp or PORT/udp`);
    const protocol = (m[2] ?? 'tcp') as 'tcp' | 'udp';
    for (const binding of list ?? [{}]) {
      const hostIp = binding.HostIp ?? '';
      const hostPortText = binding.HostPort ?? '';
      const r = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(hostPortText);
      if (hostPortText !== '' && !r) throw new Error(`invalid host port ${JSON.stringify(hostPortText)} for ${key}`);
      const hostPort = r ? Number(r[1]) : 0;
      const hostPortEnd = r?.[2] !== undefined ? Number(r[2]) : undefined;
      if (hostPort > 65535 || (hostPortEnd !== undefined && (hostPortEnd > 65535 || hostPortEnd < hostPort))) {
        throw new Error(`invalid host port ${JSON.stringify(hostPortText)} for ${key}`);
      }
      out.push({ containerPort, protocol, hostIp, hostPort, ...(hostPortEnd !== undefined ? { hostPortEnd } : {}) });
    }
  }
  return out;
}
