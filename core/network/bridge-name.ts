/**
 * The host device of a network's bridge, named by the engine when it records NetworkCreated (the
 * event carries it, so the driver, recovery and the leak check agree on it): "mdbr-" and the first
 * 8 characters of the network id, 13 of the 15 characters Linux allows. Never docker0 or a host's br0.
 */
export const BRIDGE_PREFIX = 'mdbr-';

export function bridgeNameFor(networkId: string): string {
  return `${BRIDGE_PREFIX}${networkId.slice(0, 8)}`;
}
