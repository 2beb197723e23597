/**
 * network.v1: the contract of a network driver (the built-in is plugins/network-bridge,
 * `network.v1.bridge`). It owns what lives on the host for networks: bridges, one veth pair per
 * container and network, the nftables rules of published ports and of outbound NAT, and the
 * embedded DNS resolver. It decides nothing: subnets and addresses come from IPAM (a pure fold of
 * the network events, core/network/ipam.ts) and are given to it; it makes the host match.
 *
 * Example, `run -d -p 8080:80 --network app web` on a network whose NetworkCreated said subnet
 * 172.18.0.0/16, gateway 172.18.0.1, bridge "mdbr-3f2a9c01":
 *   1. `ensureNetwork({id: "3f2a…", bridge: "mdbr-3f2a9c01", subnet: "172.18.0.0/16", gateway: "172.18.0.1",
 *      mtu: 1500, internal: false, dns: true})` makes the bridge with 172.18.0.1/16, adds its
 *      masquerade and forward rules to the driver's nft table, and starts the resolver on
 *      172.18.0.1:53 (a no-op when all of that is already there);
 *   2. IPAM gives 172.18.0.2 (ContainerNetworkConnected is appended), then, at the shim's hold,
 *      `attach({containerId: "9c1e…", network, netns: {pid: 4242, parent: 4240}, interface: "eth0",
 *      ip: "172.18.0.2", mac: "02:42:ac:12:00:02"})` makes the pair mdv9c1e3f23f2a (host side, on
 *      the bridge) / eth0 (inside the namespace of the init 4242, the child of its shim 4240), with
 *      the address, lo up and the default route via 172.18.0.1, in one request to its netlink session;
 *   3. `publish("9c1e…", "172.18.0.2", [{containerPort: 80, protocol: "tcp", hostIp: "", hostPort: 8080}], inUse)`
 *      checks 8080 is free (not in `inUse` from the fold, not bound by a host process; else
 *      PortAllocatedError and nothing installed), adds the DNAT and resolves
 *      with `[{containerPort: 80, protocol: "tcp", hostIp: "0.0.0.0", hostPort: 8080}]` for
 *      ContainerPortsPublished;
 *   4. on the exit: `unpublish("9c1e…", those ports)`, then once the exit is recorded, still under
 *      the container's lock, `detach("9c1e…", network)` (not waited for: the bridge driver marks it
 *      pending at once and sends its requests on the next turn of the event loop, after a stop's
 *      answer; it held the namespace since the attach and lets go of it with the pair; an `attach`
 *      of the same container waits for that or takes back a pair of its still there; the address
 *      goes to no other container until the returned promise settles); on `network rm`:
 *      `removeNetwork(network)`. Each undo is idempotent: calling it twice, or for something that
 *      was never made, succeeds.
 * After a crash, `list()` says what is on the host so a recovery can keep what the log says is in
 * use and undo the rest.
 */
import type { PublishedPort } from '../../events/index.js';
import type { Driver } from './driver.js';

/**
 * Settings of the network driver that the daemon binds from its flags (`--dns`) and its exec root
 * (the nft table: one per daemon, so daemons side by side never touch each other's rules). A
 * driver takes them with `@inject(NetworkDriverOptions) @optional()`.
 */
export const NetworkDriverOptions = Symbol.for('tiny-docker.network.Options');
export interface NetworkDriverOptions {
  /** The nft table (family ip) of the driver; default "mini-docker". */
  readonly table?: string;
  /** Where the embedded resolver forwards names it does not know ("IP" or "IP:port"), as dockerd's --dns. */
  readonly upstreamDns?: readonly string[];
  /** The resolver's port on each gateway; default 53. */
  readonly dnsPort?: number;
}

/** What the driver needs to know of a network (its NetworkCreated). */
export interface NetworkSpec {
  readonly id: string;
  /** The host's bridge device, at most 15 characters. */
  readonly bridge: string;
  readonly subnet: string;
  readonly gateway: string;
  readonly mtu: number;
  /** No route out: no masquerade, forwarding only inside the network. */
  readonly internal: boolean;
  /** Serve the embedded resolver on the gateway address. */
  readonly dns: boolean;
}

/** A process's network namespace, opened only while the process at `pid` is `parent`'s child. */
export interface ProcessNetns {
  readonly pid: number;
  readonly parent: number;
}

export interface AttachSpec {
  readonly containerId: string;
  readonly network: NetworkSpec;
  /**
   * The container's network namespace: a path such as /run/netns/<name>, a pid, or a process
   * checked by its parent (`{pid, parent}`: the container's init and its shim), which a driver must
   * prefer: a pid named by a path can be reused by another process between the container's death
   * and its exit's record, and the namespace opened would be that process's (the host's).
   */
  readonly netns: string | number | ProcessNetns;
  /** The interface name inside: eth0 for the first network, eth1... */
  readonly interface: string;
  readonly ip: string;
  readonly mac: string;
  /** Whether this network gives the default route (the first network does). Default true. */
  readonly defaultRoute?: boolean;
}

/** One `-p` binding asked for; hostPort 0 = a free port chosen by the driver; hostPortEnd = a range to pick from. */
export interface PortRequest {
  readonly containerPort: number;
  readonly protocol: 'tcp' | 'udp';
  /** "" or "0.0.0.0" = every address of the host. */
  readonly hostIp: string;
  readonly hostPort: number;
  readonly hostPortEnd?: number;
}

/** A host port is taken (by another container or a host process): Docker's message, nothing was installed. */
export class PortAllocatedError extends Error {
  constructor(readonly hostIp: string, readonly hostPort: number) {
    super(`Bind for ${hostIp}:${hostPort} failed: port is already allocated`);
    this.name = 'PortAllocatedError';
  }
}

/**
 * Answers the embedded resolver's questions from the fold: the addresses of `name` on a network.
 * `from` is the asking client's address on that network, so a container on several networks
 * finds the names of all of them (as Docker's resolver, which answers per container).
 */
export interface NameSource {
  lookup(networkId: string, name: string, from?: string): readonly string[];
}

/** What the driver holds on the host now, each thing with whose it is, for a recovery to adopt or remove. */
export interface HeldNetworkResources {
  /** Bridges of ours, by device name, with the network id they were made for when it can be read back. */
  readonly bridges: readonly { readonly name: string; readonly network: string | null }[];
  /** Host ends of veth pairs, with the container and network they were made for. */
  readonly veths: readonly { readonly name: string; readonly containerId: string | null; readonly network: string | null }[];
  /** nft tables of the driver (family and name, e.g. "ip mini-docker"). */
  readonly tables: readonly string[];
  /** Networks with rules in the table (by id). */
  readonly ruleNetworks: readonly string[];
  /** Published ports in the table, by container id. */
  readonly ports: readonly { readonly containerId: string; readonly containerIp: string; readonly port: PublishedPort }[];
  /** Resolver sockets this process serves: network id and address. */
  readonly dnsListeners: readonly { readonly network: string; readonly address: string }[];
}

export interface NetworkDriver extends Driver {
  /** Makes the network's bridge, rules and resolver; idempotent. */
  ensureNetwork(network: NetworkSpec): Promise<void>;
  /** Removes the bridge, the network's rules and its resolver; a no-op for what is not there. */
  removeNetwork(network: NetworkSpec): Promise<void>;
  /** Wires a container's namespace into the network (veth pair, address, lo, route). */
  attach(spec: AttachSpec): Promise<void>;
  /**
   * Removes the container's veth pair on the network, and lets go of its namespace if the driver
   * holds it (the bridge driver does, from the attach: the exit's record then does not run beside
   * the kernel's teardown of the namespace); a no-op when it is gone (a namespace that died takes it along).
   */
  detach(containerId: string, network: NetworkSpec): Promise<void>;
  /**
   * Installs published ports leading to `containerIp`; all or nothing. `inUse` is what the fold says
   * other containers hold (core/network/published-ports.ts); a host process holding the port is
   * found by binding it, and two publishes racing for one port by the nft transaction itself.
   */
  publish(containerId: string, containerIp: string, requests: readonly PortRequest[], inUse: readonly PublishedPort[]): Promise<readonly PublishedPort[]>;
  /** Removes published ports (the ones ContainerPortsPublished recorded); idempotent. */
  unpublish(containerId: string, containerIp: string, ports: readonly PublishedPort[]): Promise<void>;
  /** Where the resolver reads names from; set once by the engine. */
  serveNames(source: NameSource): void;
  list(): Promise<HeldNetworkResources>;
}
