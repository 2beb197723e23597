/**
 * network.v1.bridge: Docker's bridge driver on iproute2 and nftables. One bridge per network
 * (`mdbr-<id8>`, never docker0), one veth pair per container and network (host end `mdv…` on the
 * bridge, the other end renamed eth0/eth1… inside the container's namespace), published ports and
 * outbound NAT in its own nft table (nft-rules.ts), and an embedded resolver per user network on
 * the gateway address (dns/dns-server.ts). The steps of a start and a stop cost no process: an
 * attach or a detach is a request to a long-lived netlink session (netlink-session.ts; one for
 * attaches, one for detaches, so that a start never waits behind a veth's deletion), a publish
 * a transaction of the long-lived `nft -i` (nft-session.ts); a network's creation runs one
 * `ip -batch -` and one nft script.
 *
 * Example: see core/plugins/network-driver.ts.
 */
import { constants } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { access, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { inject, injectable, optional } from '../../core/plugin-api.js';
import type { DriverContext, DriverStatus, Logger } from '../../core/plugin-api.js';
import type { PublishedPort } from '../../events/index.js';
import {
  NetworkDriverOptions, PortAllocatedError, type AttachSpec, type HeldNetworkResources, type NameSource, type NetworkDriver, type NetworkSpec, type PortRequest,
} from '../../core/plugins/network-driver.js';
import { parseSubnet } from '../../core/network/ipv4.js';
import { portsConflict } from '../../core/network/published-ports.js';
import { EmbeddedResolver, parseUpstream } from './dns/dns-server.js';
import { HostCommandError, ipBatch, ipLinks, nftListTable, nftScript } from './host-commands.js';
import { NetlinkError, NetlinkSession } from './netlink-session.js';
import { probePort } from './host-ports.js';
import { NftSession } from './nft-session.js';
import { BRIDGE_PREFIX, VETH_PREFIX, parseVethAlias, vethAlias, vethNameFor } from './network-names.js';
import {
  DEFAULT_TABLE, baseScript, networkAddScript, networkRemoveScript, portsAddScript, portsDeleteScript, readHeldTable,
} from './nft-rules.js';

/** Optional settings (core's NetworkDriverOptions), bound by the daemon from its flags, or by tests. */
export const BridgeNetworkOptions = NetworkDriverOptions;
export type BridgeNetworkOptions = NetworkDriverOptions;

const TOOLS: readonly (readonly [string, string])[] = [['ip', 'iproute2'], ['nft', 'nftables']];

async function onPath(program: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
    try {
      await access(join(dir, program), constants.X_OK);
      return true;
    } catch { /* next */ }
  }
  return false;
}

/** The netlink session's word for a namespace: a path, or `pid:<pid>:<parent>` (a process the session checks by its parent). */
function netnsWord(netns: AttachSpec['netns']): string {
  if (typeof netns === 'number') return `/proc/${netns}/ns/net`;
  if (typeof netns === 'string') return netns;
  return `pid:${netns.pid}:${netns.parent}`;
}

const { EEXIST } = osConstants.errno;
const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);
const gone = (e: unknown): boolean => e instanceof HostCommandError && /Cannot find device|does not exist/.test(e.stderr);

@injectable()
export class BridgeNetworkDriver implements NetworkDriver {
  readonly id = 'network.v1.bridge';
  private readonly table: string;
  private readonly dnsPort: number;
  private readonly upstreams;
  private readonly resolvers = new Map<string, EmbeddedResolver>();
  private names: NameSource = { lookup: () => [] };
  private logger: Logger | null = null;
  /** nft work one transaction after the other: a port check and its install are one step. */
  private nftQueue: Promise<unknown> = Promise.resolve();
  private readonly session = new NftSession();
  /** Attaches go to one netlink session, detaches to another: a veth's deletion waits for the kernel's RCU grace periods (25-30 ms), and a start must not wait behind it. */
  private readonly netlink = new NetlinkSession();
  private readonly unlinker = new NetlinkSession();
  /**
   * The detaches asked and not answered yet, by host end: an attach of the same name waits for its
   * own (the detach session answers one request at a time, and a detach queued behind others would
   * otherwise reach the name after the attach made the pair again, and delete the new pair).
   */
  private readonly pendingDetaches = new Map<string, Promise<void>>();
  /** Set by `close`: a detach after it does nothing (it would start a session nobody closes). */
  private closed = false;

  constructor(@inject(BridgeNetworkOptions) @optional() options?: BridgeNetworkOptions) {
    this.table = options?.table ?? DEFAULT_TABLE;
    this.dnsPort = options?.dnsPort ?? 53;
    this.upstreams = (options?.upstreamDns ?? []).map(parseUpstream);
  }

  async init(context: DriverContext): Promise<DriverStatus> {
    this.logger = context.logger;
    if (typeof process.getuid === 'function' && process.getuid() !== 0) return { status: 'skipped', reason: 'bridges and nftables need root' };
    for (const [program, pkg] of TOOLS) {
      if (!(await onPath(program))) return { status: 'skipped', reason: `${program} not found: install Debian's ${pkg}` };
    }
    const helper = this.netlink.missing();
    if (helper) return { status: 'skipped', reason: helper };
    return { status: 'ok' };
  }

  serveNames(source: NameSource): void {
    this.names = source;
  }

  async ensureNetwork(network: NetworkSpec): Promise<void> {
    const subnet = parseSubnet(network.subnet);
    if (!subnet) throw new Error(`network ${network.id}: invalid subnet ${network.subnet}`);
    if (!network.bridge.startsWith(BRIDGE_PREFIX) || network.bridge.length > 15) {
      // never someone else's bridge (docker0, a host's br0): only devices named as ours
      throw new Error(`network ${network.id}: bridge name ${JSON.stringify(network.bridge)} is not one of ours (${BRIDGE_PREFIX}…, at most 15 characters)`);
    }
    const br = network.bridge;
    const lines = (await exists(`/sys/class/net/${br}`)) ? [] : [`link add name ${br} type bridge`];
    lines.push(`link set ${br} mtu ${network.mtu} alias ${network.id}`, `addr replace ${network.gateway}/${subnet.prefix} dev ${br}`, `link set ${br} up`);
    try {
      await ipBatch(lines);
    } catch (e) {
      if (!(e instanceof HostCommandError && /File exists/.test(e.stderr))) throw e;
      await ipBatch(lines.slice(1)); // made meanwhile by a concurrent ensure
    }
    // The host forwards between bridges and the world; 127.0.0.1 DNAT'd to a container may leave through the bridge.
    await writeFile('/proc/sys/net/ipv4/ip_forward', '1');
    await writeFile(`/proc/sys/net/ipv4/conf/${br}/route_localnet`, '1');
    await this.nft(async () => {
      const script = [...baseScript(this.table), ...networkAddScript(this.table, network)];
      try {
        await this.runNft(script);
      } catch (e) {
        // nft 1.0.6 refuses an element of an interval map made in the same transaction: make the table first
        if (!(e instanceof HostCommandError && /No such file or directory/.test(e.stderr))) throw e;
        await this.runNft(baseScript(this.table));
        await this.runNft(script);
      }
    });
    if (network.dns && !this.resolvers.has(network.id)) {
      const resolver = new EmbeddedResolver({
        address: network.gateway, port: this.dnsPort, upstreams: this.upstreams,
        lookup: (name, from) => this.names.lookup(network.id, name, from),
        onError: (m) => this.logger?.warn(m),
      });
      this.resolvers.set(network.id, resolver);
      try {
        await resolver.start();
      } catch (e) {
        this.resolvers.delete(network.id);
        throw new Error(`cannot start the resolver of network ${network.id} on ${resolver.address}: ${(e as Error).message}`);
      }
    }
  }

  async removeNetwork(network: NetworkSpec): Promise<void> {
    const resolver = this.resolvers.get(network.id);
    this.resolvers.delete(network.id);
    await resolver?.stop();
    await this.nft(async () => {
      if ((await nftListTable('ip', this.table)) === null) return;
      await this.runNft([...baseScript(this.table), ...networkRemoveScript(this.table, network)]);
      await this.dropTableIfEmpty();
    });
    try {
      await ipBatch([`link del ${network.bridge}`]);
    } catch (e) {
      if (!gone(e)) throw e;
    }
  }

  /**
   * One request to the netlink session: the pair is made with its peer inside the container's
   * namespace (by fd), its host end on the bridge, up, and named as ours by its alias (what `list`
   * reads); then, inside the namespace, the peer and lo up, the address and the route. Nothing is
   * read from the host before: the session resolves the bridge by name itself.
   */
  async attach(spec: AttachSpec): Promise<void> {
    const { network } = spec;
    const prefix = parseSubnet(network.subnet)?.prefix;
    if (prefix === undefined) throw new Error(`network ${network.id}: invalid subnet ${network.subnet}`);
    const veth = vethNameFor(spec.containerId, network.id);
    await this.pendingDetaches.get(veth); // never rejects: its failure is its caller's
    try {
      await this.netlink.attach({
        netns: netnsWord(spec.netns), hostEnd: veth, bridge: network.bridge, mtu: network.mtu,
        interface: spec.interface, mac: spec.mac, ip: spec.ip, prefix, gateway: spec.defaultRoute !== false ? network.gateway : null,
        alias: vethAlias(spec.containerId, network.id),
      });
    } catch (e) {
      // EEXIST: the name is another device's (take_back_stale left it alone, or it was made meanwhile), and this attach made nothing to undo
      if (!(e instanceof NetlinkError && e.errno === EEXIST)) await this.detach(spec.containerId, network).catch(() => undefined);
      throw new Error(`cannot attach container ${spec.containerId.slice(0, 12)} to network ${network.id.slice(0, 12)}: ${(e as Error).message}`);
    }
  }

  /**
   * The namespace held since the attach let go, and the host end deleted (its peer with it);
   * nothing to do when it is gone already (its namespace died and took the pair along). The detach
   * is pending from the call on (an attach of the same host end waits until both requests are
   * answered), and its requests go out on the next turn of the event loop: an exit calls this
   * under the container's lock, before a stop answers, and the requests run after the answer. After
   * `close` (the daemon's shutdown) a detach does nothing: no session is started again, and the
   * next daemon's recovery deletes a pair left over.
   */
  async detach(containerId: string, network: NetworkSpec): Promise<void> {
    const veth = vethNameFor(containerId, network.id);
    // By its alias too: a container whose id shares this one's first characters has a host end of
    // the same name, which this detach leaves alone (and its hold).
    const alias = vethAlias(containerId, network.id);
    if (this.closed) return;
    // The attach session lets go of the namespace it held for the pair first: with no process left
    // in it the kernel queues its teardown at once (and deletes the pairs of namespaces that die
    // together in one batch), where the detach session deletes one pair at a time; then the
    // deletion, which finds the pair gone (ENODEV: no error) or deletes it itself (the kernel had not
    // reached it yet, or something else holds the namespace).
    const deleted = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => (this.closed ? undefined : this.release(veth, alias).then(() => (this.closed ? undefined : this.unlinker.detach(veth, alias)))));
    const settled = deleted.catch(() => undefined).finally(() => {
      if (this.pendingDetaches.get(veth) === settled) this.pendingDetaches.delete(veth);
    });
    this.pendingDetaches.set(veth, settled);
    await deleted;
  }

  /** The attach session's hold on a pair's namespace let go; a session that ended held nothing any more. */
  private async release(veth: string, alias: string): Promise<void> {
    if (this.netlink.pid === undefined) return;
    await this.netlink.release(veth, alias).catch((e: unknown) => this.logger?.warn(`releasing the namespace of ${veth}: ${(e as Error).message}`));
  }

  publish(containerId: string, containerIp: string, requests: readonly PortRequest[], inUse: readonly PublishedPort[]): Promise<readonly PublishedPort[]> {
    return this.nft(async () => {
      for (let attempt = 0; ; attempt++) {
        const chosen = await this.choosePorts(requests, inUse);
        if (chosen.length === 0) return chosen;
        try {
          await this.runNft(portsAddScript(this.table, containerId, containerIp, chosen));
          return chosen;
        } catch (e) {
          if (!(e instanceof HostCommandError)) throw e;
          if (/No such file or directory/.test(e.stderr)) throw new Error(`cannot publish ports: the network of ${containerIp} is not set up (ensureNetwork first)`);
          // "File exists": a key is held with other data. A fixed port is taken; random ones are drawn again.
          const fixed = requests.find((r) => r.hostPort !== 0);
          if (!/File exists/.test(e.stderr) || attempt >= 5 || fixed) {
            if (/File exists/.test(e.stderr) && fixed) throw new PortAllocatedError(fixed.hostIp === '' ? '0.0.0.0' : fixed.hostIp, fixed.hostPort);
            throw e;
          }
        }
      }
    });
  }

  /** The host side of each request: checked against `inUse` and the kernel (a bind), a free port drawn when none was given. */
  private async choosePorts(requests: readonly PortRequest[], inUse: readonly PublishedPort[]): Promise<PublishedPort[]> {
    const chosen: PublishedPort[] = [];
    const taken = (p: PublishedPort): boolean => [...inUse, ...chosen].some((h) => portsConflict(h, p));
    for (const request of requests) {
      const hostIp = request.hostIp === '' ? '0.0.0.0' : request.hostIp;
      const candidate = (hostPort: number): PublishedPort => ({ containerPort: request.containerPort, protocol: request.protocol, hostIp, hostPort });
      let port: PublishedPort | null = null;
      if (request.hostPort === 0) {
        for (let tries = 0; tries < 20 && !port; tries++) {
          const free = await probePort(request.protocol, hostIp, 0);
          if (free !== null && !taken(candidate(free))) port = candidate(free);
        }
        if (!port) throw new Error(`no free ${request.protocol} host port for container port ${request.containerPort}`);
      } else {
        const last = request.hostPortEnd ?? request.hostPort;
        for (let hostPort = request.hostPort; hostPort <= last && !port; hostPort++) {
          const c = candidate(hostPort);
          if (!taken(c) && (await probePort(request.protocol, hostIp, hostPort)) !== null) port = c;
        }
        if (!port) throw new PortAllocatedError(hostIp, request.hostPort);
      }
      chosen.push(port);
    }
    return chosen;
  }

  /** One transaction: each element is added (a no-op when it is there with the same data) then deleted. */
  unpublish(containerId: string, containerIp: string, ports: readonly PublishedPort[]): Promise<void> {
    if (ports.length === 0) return Promise.resolve();
    return this.nft(async () => {
      try {
        await this.runNft([...portsAddScript(this.table, containerId, containerIp, ports), ...portsDeleteScript(this.table, ports)]);
      } catch (e) {
        if (e instanceof HostCommandError && /No such file or directory/.test(e.stderr)) return; // no table: nothing published
        throw e;
      }
    });
  }

  async list(): Promise<HeldNetworkResources> {
    type Link = { ifname?: string; ifalias?: string };
    const links = async (type: string): Promise<Link[]> => {
      const parsed = await ipLinks(type);
      return Array.isArray(parsed) ? (parsed as Link[]) : [];
    };
    const bridges = (await links('bridge')).filter((l) => l.ifname?.startsWith(BRIDGE_PREFIX))
      .map((l) => ({ name: l.ifname!, network: l.ifalias && /^[0-9a-f]{64}$/.test(l.ifalias) ? l.ifalias : null }));
    const veths = (await links('veth')).filter((l) => l.ifname?.startsWith(VETH_PREFIX)).map((l) => {
      const owner = parseVethAlias(l.ifalias);
      return { name: l.ifname!, containerId: owner?.containerId ?? null, network: owner?.network ?? null };
    });
    const listing = await this.nft(() => nftListTable('ip', this.table));
    const held = readHeldTable(listing);
    return {
      bridges, veths,
      tables: listing === null ? [] : [`ip ${this.table}`],
      ruleNetworks: held.networkTags,
      ports: held.ports,
      dnsListeners: [...this.resolvers.entries()].map(([network, r]) => ({ network, address: r.address })),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.session.close();
    await Promise.all([this.netlink.close(), this.unlinker.close()]);
    const all = [...this.resolvers.values()];
    this.resolvers.clear();
    await Promise.all(all.map((r) => r.stop()));
  }

  /** Deletes the table once it holds no network and no port, so a host without networks has none of ours. */
  private async dropTableIfEmpty(): Promise<void> {
    const listing = await nftListTable('ip', this.table);
    if (listing === null) return;
    const held = readHeldTable(listing);
    if (held.networkTags.length === 0 && held.ports.length === 0) await this.runNft([`delete table ip ${this.table}`]);
  }

  /** A transaction through the long-lived `nft -i` (nft-session.ts), or `nft -f -` when there is none. */
  private async runNft(lines: readonly string[]): Promise<void> {
    if (this.session.alive) {
      try {
        return await this.session.run(lines);
      } catch (e) {
        if (!(e instanceof HostCommandError && e.stderr === '')) throw e; // nft's own error: the script failed
      }
    }
    await nftScript(lines);
  }

  private nft<T>(work: () => Promise<T>): Promise<T> {
    const next = this.nftQueue.then(work, work);
    this.nftQueue = next.catch(() => undefined);
    return next;
  }
}
