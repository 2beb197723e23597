/** Host device names of the bridge driver: prefixes the leak check and `list` recognise. */
export { BRIDGE_PREFIX, bridgeNameFor } from '../../core/network/bridge-name.js';
export const VETH_PREFIX = 'mdv';

/** The host end of a container's veth pair on a network: "mdv", 7 of the container id, 4 of the network id. */
export function vethNameFor(containerId: string, networkId: string): string {
  return `${VETH_PREFIX}${containerId.slice(0, 7)}${networkId.slice(0, 4)}`;
}

/** The alias written on a host veth so `list` can say whose it is: "mini-docker:<container>:<network>". */
export function vethAlias(containerId: string, networkId: string): string {
  return `mini-docker:${containerId}:${networkId}`;
}

export function parseVethAlias(alias: string | undefined): { containerId: string; network: string } | null {
  const m = /^mini-docker:([0-9a-f]+):([0-9a-f]+)$/.exec(alias ?? '');
  return m ? { containerId: m[1]!, network: m[2]! } : null;
}
