/**
 * Networks found by a reference, over the fold: full id, then name, then a unique id prefix
 * (Docker's order), the bridge networks alone or with `host` and `none`. NetworkService
 * (network-service.ts) answers its lookups with these.
 */
import type { NetworksState, NetworkState, PredefinedNetwork } from '../network/network-state.js';
import { InvalidArgumentError } from './errors.js';

/** What a network reference names: a bridge network (the default one or a user network), or `host` / `none`. */
export type FoundNetwork =
  | { readonly kind: 'bridge'; readonly network: NetworkState }
  | { readonly kind: 'predefined'; readonly network: PredefinedNetwork };

/** A bridge network by full id, name, or unique id prefix; undefined when none (an ambiguous prefix throws). */
export function tryFindNetwork(state: Pick<NetworksState, 'networks'>, ref: string): NetworkState | undefined {
  if (ref === '') return undefined;
  const networks = state.networks;
  const byId = networks[ref];
  if (byId) return byId;
  const all = Object.values(networks);
  const byName = all.find((n) => n.name === ref);
  if (byName) return byName;
  if (!/^[0-9a-f]+$/.test(ref)) return undefined;
  const matches = all.filter((n) => n.id.startsWith(ref));
  if (matches.length > 1) throw new InvalidArgumentError(`network ${ref} is ambiguous (${matches.length} matches found based on ID prefix)`);
  return matches[0];
}

/** Any network, `host` and `none` too, as tryFindNetwork; undefined when nothing matches (an ambiguous prefix throws). */
export function tryFindAnyNetwork(state: Pick<NetworksState, 'networks' | 'predefined'>, ref: string): FoundNetwork | undefined {
  const all: FoundNetwork[] = [
    ...Object.values(state.networks).map((network) => ({ kind: 'bridge' as const, network })),
    ...Object.values(state.predefined).map((network) => ({ kind: 'predefined' as const, network })),
  ];
  return ref === '' ? undefined
    : all.find((f) => f.network.id === ref) ?? all.find((f) => f.network.name === ref) ?? byPrefix(all, ref);
}

function byPrefix(all: readonly FoundNetwork[], ref: string): FoundNetwork | undefined {
  if (!/^[0-9a-f]+$/.test(ref)) return undefined;
  const matches = all.filter((f) => f.network.id.startsWith(ref));
  if (matches.length > 1) throw new InvalidArgumentError(`network ${ref} is ambiguous (${matches.length} matches found based on ID prefix)`);
  return matches[0];
}
