/**
 * Network benchmark (not a test; root): what the bridge driver's network step costs and what a
 * published port carries.
 * - attach: wiring one namespace into a bridge (veth pair, address, lo, route: `ip -batch` on the
 *   host and inside), median and p90 of 20; detach; publish of one port (nft). Goal: attach +
 *   publish ≤ 15 ms.
 * - TCP throughput with iperf3 (Debian's iperf3), 3 s each, three of each interleaved (medians), from
 *   the host: straight to the container's address, and through a published port on 127.0.0.1
 *   (output DNAT). Goal: within 10%.
 * - run -d through a real daemon (its part: create + start over the API, until the container runs),
 *   on the default bridge against `--network none`, interleaved, medians of RUN_PAIRS each. Goal: the
 *   network step costs at most 15 ms.
 * Prints one JSON object. Run: `node dist/bench/network.bench.js`. Everything it makes (namespaces
 * md-bench-*, bridge, table mini-docker-bench, the daemon's root) is removed at the end.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { allocateAddress, macForAddress } from '../core/network/ipam.js';
import { foldNetworks } from '../core/network/network-state.js';
import type { NetworkEvent } from '../events/index.js';
import type { NetworkSpec } from '../core/plugins/network-driver.js';
import { BridgeNetworkDriver } from '../plugins/network-bridge/bridge-network-driver.js';
import { bridgeNameFor } from '../plugins/network-bridge/network-names.js';
import { TestDaemon } from '../test/e2e/harness.js';

const run = promisify(execFile);
const ATTACHES = 20;
const RUN_PAIRS = Math.max(3, Number(process.env.BENCH_RUNS ?? 10));
const SUBNET = '10.232.0.0/24';

const hex = (n: number): string => randomBytes(n).toString('hex');
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Number(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!.toFixed(2));
}
const ms = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;

async function iperf(args: readonly string[]): Promise<number> {
  const { stdout } = await run('iperf3', ['-J', '-t', '3', ...args], { maxBuffer: 16 * 1024 * 1024 });
  const report = JSON.parse(stdout) as { end?: { sum_received?: { bits_per_second?: number } } };
  return Number(((report.end?.sum_received?.bits_per_second ?? 0) / 1e9).toFixed(3));
}

async function waitForPort(ns: string, port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const { stdout } = await run('ip', ['netns', 'exec', ns, 'ss', '-ltnH', `sport = :${port}`]);
    if (stdout.trim() !== '') return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`iperf3 did not listen on ${port} in ${ns}`);
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log(JSON.stringify({ skipped: 'needs root' }));
    return;
  }
  const driver = new BridgeNetworkDriver({ table: 'mini-docker-bench' });
  const logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const status = await driver.init({ dataRoot: '/x', execRoot: '/x', stateDir: '/x', runDir: '/x', logger });
  if (status.status !== 'ok') {
    console.log(JSON.stringify({ skipped: status.reason }));
    return;
  }
  const id = hex(32);
  const events: NetworkEvent[] = [{
    type: 'NetworkCreated',
    data: { id, name: 'bench', driver: 'bridge', subnet: SUBNET, gateway: '10.232.0.1', internal: false, labels: {}, bridge: bridgeNameFor(id), mtu: 1500, dns: false },
  }];
  const network: NetworkSpec = { id, bridge: bridgeNameFor(id), subnet: SUBNET, gateway: '10.232.0.1', mtu: 1500, internal: false, dns: false };
  const spaces: string[] = [];
  const servers: ChildProcess[] = [];
  try {
    let start = process.hrtime.bigint();
    await driver.ensureNetwork(network);
    const ensureMs = ms(start);
    for (let i = 0; i < ATTACHES; i++) {
      const ns = `md-bench-${hex(3)}`;
      await run('ip', ['netns', 'add', ns]);
      spaces.push(ns);
    }
    const attach: number[] = [];
    const publish: number[] = [];
    const attached: { containerId: string; ip: string; ns: string }[] = [];
    for (const ns of spaces) {
      const containerId = hex(32);
      const ip = allocateAddress(foldNetworks(events).networks[id]!, containerId);
      events.push({ type: 'ContainerNetworkConnected', data: { network: id, id: containerId, ip, mac: macForAddress(ip), aliases: [], interface: 'eth0' } });
      start = process.hrtime.bigint();
      await driver.attach({ containerId, network, netns: `/run/netns/${ns}`, interface: 'eth0', ip, mac: macForAddress(ip) });
      attach.push(ms(start));
      start = process.hrtime.bigint();
      const ports = await driver.publish(containerId, ip, [{ containerPort: 80, protocol: 'tcp', hostIp: '', hostPort: 0 }], []);
      publish.push(ms(start));
      await driver.unpublish(containerId, ip, ports);
      attached.push({ containerId, ip, ns });
    }

    // throughput: iperf3 server in the first namespace
    const target = attached[0]!;
    const server = spawn('ip', ['netns', 'exec', target.ns, 'iperf3', '-s', '-p', '5201'], { stdio: 'ignore' });
    servers.push(server);
    await waitForPort(target.ns, 5201);
    const [published] = await driver.publish(target.containerId, target.ip, [{ containerPort: 5201, protocol: 'tcp', hostIp: '', hostPort: 0 }], []);
    // interleaved, three of each: the machine's load moves more than the path does
    const straightRuns: number[] = [];
    const portRuns: number[] = [];
    for (let i = 0; i < 3; i++) {
      straightRuns.push(await iperf(['-c', target.ip, '-p', '5201']));
      portRuns.push(await iperf(['-c', '127.0.0.1', '-p', String(published!.hostPort)]));
    }
    const straight = percentile(straightRuns, 0.5);
    const throughPort = percentile(portRuns, 0.5);
    await driver.unpublish(target.containerId, target.ip, [published!]);

    // what any one process costs on this machine now (the steps above are one process each)
    const spawnBaseline: number[] = [];
    for (let i = 0; i < ATTACHES; i++) {
      start = process.hrtime.bigint();
      await run('/bin/true');
      spawnBaseline.push(ms(start));
    }
    const detach: number[] = [];
    for (const a of attached) {
      start = process.hrtime.bigint();
      await driver.detach(a.containerId, network);
      detach.push(ms(start));
    }
    console.log(JSON.stringify({
      ensureNetworkMs: Number(ensureMs.toFixed(2)),
      spawnBaselineMs: { median: percentile(spawnBaseline, 0.5), p90: percentile(spawnBaseline, 0.9) },
      attachMs: { median: percentile(attach, 0.5), p90: percentile(attach, 0.9), runs: ATTACHES },
      publishOnePortMs: { median: percentile(publish, 0.5), p90: percentile(publish, 0.9) },
      networkStepMs: { median: Number((percentile(attach, 0.5) + percentile(publish, 0.5)).toFixed(2)), goal: 15 },
      detachMs: { median: percentile(detach, 0.5), p90: percentile(detach, 0.9) },
      tcpGbitPerSecond: { straightToContainer: straight, published127: throughPort, ratio: Number((throughPort / straight).toFixed(3)), goal: 0.9 },
    }, null, 2));
  } finally {
    for (const s of servers) s.kill('SIGKILL');
    for (const ns of spaces) await run('ip', ['netns', 'del', ns]).catch(() => undefined);
    await driver.removeNetwork(network);
    await driver.close();
  }
}

/** One API call to the daemon; resolves with the status and the parsed body. */
function api(socketPath: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => { text += c; }).on('end', () => resolve({ status: res.statusCode ?? 0, json: text === '' ? null : JSON.parse(text) as unknown }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** The daemon's part of `run -d` (create + start) on the default bridge and with --network none, interleaved, the order alternating. */
async function runDetachedFigures(): Promise<Record<string, unknown>> {
  const d = new TestDaemon('network-bench');
  await d.start();
  try {
    const once = async (networkMode: string): Promise<number> => {
      const start = process.hrtime.bigint();
      const created = await api(d.socketPath, 'POST', '/containers/create', { Image: 'busybox', Cmd: ['sleep', '100000'], HostConfig: { NetworkMode: networkMode } });
      const id = (created.json as { Id: string }).Id;
      const started = await api(d.socketPath, 'POST', `/containers/${id}/start`);
      const elapsed = ms(start);
      if (started.status !== 204) throw new Error(`start (${networkMode}) answered ${started.status}: ${JSON.stringify(started.json)}`);
      await api(d.socketPath, 'DELETE', `/containers/${id}?force=1`);
      return elapsed;
    };
    await once('none');
    await once('bridge'); // warm-up: the busybox image, the default bridge's first veth
    const none: number[] = [];
    const bridge: number[] = [];
    // The order alternates: what one run's removal leaves the kernel to do (a veth's deletion waits
    // for RCU grace periods) falls on the next run, which must not always be the same kind.
    for (let i = 0; i < RUN_PAIRS; i++) {
      if (i % 2 === 0) {
        none.push(await once('none'));
        bridge.push(await once('bridge'));
      } else {
        bridge.push(await once('bridge'));
        none.push(await once('none'));
      }
    }
    const noneMs = percentile(none, 0.5);
    const bridgeMs = percentile(bridge, 0.5);
    return { none: { median: noneMs, p90: percentile(none, 0.9) }, bridge: { median: bridgeMs, p90: percentile(bridge, 0.9) }, networkStepMs: Number((bridgeMs - noneMs).toFixed(2)), goal: 15, pairs: RUN_PAIRS };
  } finally {
    await d.cleanup();
  }
}

await main();
if (process.getuid?.() === 0) console.log(JSON.stringify({ runDetachedDaemonMs: await runDetachedFigures() }, null, 2));
