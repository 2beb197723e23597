/**
 * Which host ports are allocated, from the fold: every port a container has published and not yet
 * unpublished. A request conflicts with one of them when protocol and port match and either binds
 * every address (0.0.0.0) or both bind the same one (Docker's "port is already allocated").
 */
import type { PublishedPort } from '../../events/network-events.js';
import type { NetworksState } from './network-state.js';

export function portsInUse(state: NetworksState, except?: string): PublishedPort[] {
  return Object.entries(state.published).filter(([id]) => id !== except).flatMap(([, p]) => p.ports);
}

export function portsConflict(a: Pick<PublishedPort, 'protocol' | 'hostIp' | 'hostPort'>, b: Pick<PublishedPort, 'protocol' | 'hostIp' | 'hostPort'>): boolean {
  return a.protocol === b.protocol && a.hostPort === b.hostPort && (a.hostIp === b.hostIp || a.hostIp === '0.0.0.0' || b.hostIp === '0.0.0.0');
}
