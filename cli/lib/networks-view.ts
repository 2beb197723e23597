/** `network ls` as docker prints it: NETWORK ID, NAME, DRIVER, SCOPE, sorted by name; -q, --no-trunc, --format. */
import type { NetworkResource } from './api-types.js';
import { shortId } from './human.js';
import { renderList, type Column } from './list-format.js';

export const NETWORK_COLUMNS: readonly Column[] = [
  { header: 'NETWORK ID', field: 'ID' },
  { header: 'NAME', field: 'Name' },
  { header: 'DRIVER', field: 'Driver' },
  { header: 'SCOPE', field: 'Scope' },
];

export interface NetworksOptions {
  readonly quiet?: boolean;
  readonly noTrunc?: boolean;
  readonly format?: string;
}

/** docker's network formatter fields: ID, Name, Driver, Scope, IPv6, Internal, Labels ("k=v,…"), CreatedAt. */
export function networkContexts(networks: readonly NetworkResource[], noTrunc = false): Record<string, string>[] {
  return [...networks].sort((a, b) => a.Name.localeCompare(b.Name)).map((n) => ({
    ID: noTrunc ? n.Id : shortId(n.Id),
    Name: n.Name,
    Driver: n.Driver,
    Scope: n.Scope,
    IPv6: String(n.EnableIPv6),
    Internal: String(n.Internal),
    Labels: Object.entries(n.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
    CreatedAt: n.Created,
  }));
}

export function renderNetworks(networks: readonly NetworkResource[], options: NetworksOptions): string {
  const contexts = networkContexts(networks, options.noTrunc);
  if (options.quiet) return contexts.map((c) => `${c.ID}\n`).join('');
  return renderList(contexts, NETWORK_COLUMNS, options.format);
}
