/**
 * The bridge driver's nftables table, as pure script builders (one `nft -f -` transaction each) and
 * a reader of `nft -j list table`. The driver touches only its own table (`ip mini-docker` by
 * default), never another.
 *
 * table ip mini-docker
 *   set bridges   { type ifname }                      every bridge of ours
 *   map fwd_in    { ifname : verdict }                 "mdbr-x" : jump in-<net>   (forward, from the bridge)
 *   map fwd_out   { ifname : verdict }                 "mdbr-x" : jump out-<net>  (forward, to the bridge)
 *   map masq_nets { ipv4_addr (interval) : verdict }   172.18.0.0/16 : jump masq-<net> (not for --internal)
 *   map tcp_any   { port : addr . port }               8080 : 172.18.0.2 . 80   (-p 8080:80)
 *   map tcp_ip    { addr . port : addr . port }        127.0.0.1 . 8081 : 172.18.0.2 . 80  (-p 127.0.0.1:8081:80)
 *   map udp_any, udp_ip                                the same for udp
 *   chain ports       dnat through the four maps
 *   chain prerouting  (nat, dstnat)  fib daddr type local jump ports     traffic from other hosts
 *   chain output      (nat, -100)    fib daddr type local jump ports     the host itself, 127.0.0.1 included
 *   chain postrouting (nat, srcnat)  ip saddr vmap @masq_nets; 127.0.0.0/8 out to a bridge: masquerade
 *   chain forward     (filter)       iifname vmap @fwd_in; oifname vmap @fwd_out
 *
 * Per network the chains in-/out-/masq-<first 12 of the id> hold its rules, so adding and removing
 * a network or a port is adding and deleting map elements: no rule handles to look up, and every
 * element carries the container id as its comment so `list` can say whose it is.
 */
import type { PublishedPort } from '../../events/index.js';
import type { NetworkSpec } from '../../core/plugins/network-driver.js';

export const DEFAULT_TABLE = 'mini-docker';
const BASE_CHAINS: readonly (readonly [string, string])[] = [
  ['prerouting', 'type nat hook prerouting priority dstnat; policy accept;'],
  ['output', 'type nat hook output priority -100; policy accept;'],
  ['postrouting', 'type nat hook postrouting priority srcnat; policy accept;'],
  ['forward', 'type filter hook forward priority filter; policy accept;'],
];

const quote = (text: string): string => {
  if (!/^[A-Za-z0-9_.:-]*$/.test(text)) throw new Error(`refusing to put ${JSON.stringify(text)} in an nft script`);
  return `"${text}"`;
};
const tag = (id: string): string => id.slice(0, 12);

/** The table with its sets, maps and base chains; idempotent (base chains are flushed and refilled). */
export function baseScript(table: string): string[] {
  const t = `ip ${table}`;
  const lines = [
    `add table ${t}`,
    `add set ${t} bridges { type ifname; }`,
    `add map ${t} fwd_in { type ifname : verdict; }`,
    `add map ${t} fwd_out { type ifname : verdict; }`,
    `add map ${t} masq_nets { type ipv4_addr : verdict; flags interval; }`,
  ];
  for (const proto of ['tcp', 'udp']) {
    lines.push(`add map ${t} ${proto}_any { type inet_service : ipv4_addr . inet_service; }`);
    lines.push(`add map ${t} ${proto}_ip { type ipv4_addr . inet_service : ipv4_addr . inet_service; }`);
  }
  lines.push(`add chain ${t} ports`, `flush chain ${t} ports`);
  for (const [name, spec] of BASE_CHAINS) lines.push(`add chain ${t} ${name} { ${spec} }`, `flush chain ${t} ${name}`);
  for (const proto of ['tcp', 'udp']) {
    lines.push(`add rule ${t} ports dnat ip to ip daddr . ${proto} dport map @${proto}_ip`);
    lines.push(`add rule ${t} ports dnat ip to ${proto} dport map @${proto}_any`);
  }
  lines.push(
    `add rule ${t} prerouting fib daddr type local jump ports`,
    `add rule ${t} output fib daddr type local jump ports`,
    `add rule ${t} postrouting ip saddr vmap @masq_nets`,
    // 127.0.0.1:HOSTPORT DNAT'd to a container leaves with source 127.0.0.1: give it the bridge's address.
    `add rule ${t} postrouting ip saddr 127.0.0.0/8 oifname @bridges masquerade`,
    `add rule ${t} forward iifname vmap @fwd_in`,
    `add rule ${t} forward oifname vmap @fwd_out`,
  );
  return lines;
}

/** The network's chains and map elements (after baseScript in the same transaction). */
export function networkAddScript(table: string, network: NetworkSpec): string[] {
  const t = `ip ${table}`;
  const id = tag(network.id);
  const br = quote(network.bridge);
  const lines = [
    `add chain ${t} in-${id}`, `flush chain ${t} in-${id}`,
    `add chain ${t} out-${id}`, `flush chain ${t} out-${id}`,
    // with br_netfilter, traffic between two containers of one bridge passes here as bridge to bridge
    `add rule ${t} in-${id} oifname ${br} accept`,
    ...(network.internal ? [`add rule ${t} in-${id} drop`] : [
      `add rule ${t} in-${id} ct status dnat accept`, // a published port reached from another network, and its replies
      `add rule ${t} in-${id} oifname @bridges drop`,
    ]),
    `add rule ${t} out-${id} iifname ${br} accept`,
    ...(network.internal ? [`add rule ${t} out-${id} drop`] : [
      `add rule ${t} out-${id} ct status dnat accept`,
      `add rule ${t} out-${id} iifname @bridges drop`,
    ]),
    `add element ${t} bridges { ${br} }`,
    `add element ${t} fwd_in { ${br} : jump in-${id} }`,
    `add element ${t} fwd_out { ${br} : jump out-${id} }`,
  ];
  if (!network.internal) {
    lines.push(
      `add chain ${t} masq-${id}`, `flush chain ${t} masq-${id}`,
      `add rule ${t} masq-${id} oifname != ${br} masquerade`,
      `add element ${t} masq_nets { ${network.subnet} : jump masq-${id} }`,
    );
  }
  return lines;
}

/** Removes the network's elements and chains; idempotent (each thing is added first, then deleted). */
export function networkRemoveScript(table: string, network: Pick<NetworkSpec, 'id' | 'bridge' | 'subnet'>): string[] {
  const t = `ip ${table}`;
  const id = tag(network.id);
  const br = quote(network.bridge);
  return [
    `add chain ${t} in-${id}`, `add chain ${t} out-${id}`, `add chain ${t} masq-${id}`,
    `add element ${t} fwd_in { ${br} : jump in-${id} }`, `delete element ${t} fwd_in { ${br} }`,
    `add element ${t} fwd_out { ${br} : jump out-${id} }`, `delete element ${t} fwd_out { ${br} }`,
    `add element ${t} masq_nets { ${network.subnet} : jump masq-${id} }`, `delete element ${t} masq_nets { ${network.subnet} }`,
    `add element ${t} bridges { ${br} }`, `delete element ${t} bridges { ${br} }`,
    `flush chain ${t} in-${id}`, `delete chain ${t} in-${id}`,
    `flush chain ${t} out-${id}`, `delete chain ${t} out-${id}`,
    `flush chain ${t} masq-${id}`, `delete chain ${t} masq-${id}`,
  ];
}

function portElement(port: PublishedPort, containerIp: string, containerId: string): { map: string; element: string; key: string } {
  const all = port.hostIp === '0.0.0.0';
  const key = all ? `${port.hostPort}` : `${port.hostIp} . ${port.hostPort}`;
  const map = `${port.protocol}_${all ? 'any' : 'ip'}`;
  return { map, key, element: `${key} comment ${quote(containerId)} : ${containerIp} . ${port.containerPort}` };
}

/** Adds published ports; the transaction fails (and adds nothing) when a key is held by something else. */
export function portsAddScript(table: string, containerId: string, containerIp: string, ports: readonly PublishedPort[]): string[] {
  return ports.map((p) => {
    const { map, element } = portElement(p, containerIp, containerId);
    return `add element ip ${table} ${map} { ${element} }`;
  });
}

/** Deletes published ports; give only elements that are there (see heldPorts). */
export function portsDeleteScript(table: string, ports: readonly PublishedPort[]): string[] {
  return ports.map((p) => {
    const { map, key } = portElement(p, '0.0.0.0', 'x');
    return `delete element ip ${table} ${map} { ${key} }`;
  });
}

export interface HeldPort {
  readonly containerId: string;
  readonly containerIp: string;
  readonly port: PublishedPort;
}

export interface HeldTable {
  readonly ports: readonly HeldPort[];
  /** Network tags (the first 12 characters of the ids) that have chains in the table. */
  readonly networkTags: readonly string[];
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Splits an nft JSON concatenation ({"concat": [a, b]}) or a single value. */
function concatParts(v: Json | undefined): Json[] {
  if (isObject(v) && Array.isArray(v.concat)) return v.concat;
  return v === undefined ? [] : [v];
}

/** What the table holds, read from `nft -j list table` (null: no table). */
export function readHeldTable(listing: unknown): HeldTable {
  const ports: HeldPort[] = [];
  const networkTags: string[] = [];
  if (!isObject(listing) || !Array.isArray(listing.nftables)) return { ports, networkTags };
  for (const item of listing.nftables) {
    if (!isObject(item)) continue;
    const chain = item.chain;
    if (isObject(chain) && typeof chain.name === 'string') {
      const m = /^in-([0-9a-f]{12})$/.exec(chain.name);
      if (m) networkTags.push(m[1]!);
    }
    const map = item.map;
    if (!isObject(map) || typeof map.name !== 'string') continue;
    const m = /^(tcp|udp)_(any|ip)$/.exec(map.name);
    if (!m || !Array.isArray(map.elem)) continue;
    const protocol = m[1] as 'tcp' | 'udp';
    for (const entry of map.elem) {
      // [key, value]; a key with a comment is {"elem": {"val": key, "comment": "..."}}
      if (!Array.isArray(entry) || entry.length !== 2) continue;
      let key: Json | undefined = entry[0];
      let comment = '';
      if (isObject(key) && isObject(key.elem)) {
        comment = typeof key.elem.comment === 'string' ? key.elem.comment : '';
        key = key.elem.val;
      }
      const keyParts = concatParts(key);
      const valueParts = concatParts(entry[1]);
      const hostIp = m[2] === 'any' ? '0.0.0.0' : String(keyParts[0]);
      const hostPort = Number(keyParts[keyParts.length - 1]);
      const [containerIp, containerPort] = [String(valueParts[0]), Number(valueParts[1])];
      ports.push({ containerId: comment, containerIp, port: { containerPort, protocol, hostIp, hostPort } });
    }
  }
  return { ports, networkTags };
}
