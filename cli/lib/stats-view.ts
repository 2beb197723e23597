import type { StatsSample } from './api-types.js';
import { binarySize, humanSize, shortId } from './human.js';
import type { Column } from './list-format.js';
import { renderList } from './list-format.js';

/** docker stats' columns. */
export const STATS_COLUMNS: readonly Column[] = [
  { header: 'CONTAINER ID', field: 'ID' },
  { header: 'NAME', field: 'Name' },
  { header: 'CPU %', field: 'CPUPerc' },
  { header: 'MEM USAGE / LIMIT', field: 'MemUsage' },
  { header: 'MEM %', field: 'MemPerc' },
  { header: 'NET I/O', field: 'NetIO' },
  { header: 'BLOCK I/O', field: 'BlockIO' },
  { header: 'PIDS', field: 'PIDs' },
];

/** One stats row, with docker's template field names. */
export interface StatsContext {
  readonly Container: string;
  readonly ID: string;
  readonly Name: string;
  readonly CPUPerc: string;
  readonly MemUsage: string;
  readonly MemPerc: string;
  readonly NetIO: string;
  readonly BlockIO: string;
  readonly PIDs: string;
  readonly [field: string]: unknown;
}

/**
 * docker's CPU %: the container's CPU time over the host's between two readings (the sample's
 * cpu_stats and precpu_stats), times the number of CPUs. 0 without a previous reading or when
 * either delta is not positive.
 */
export function cpuPercent(s: StatsSample): number {
  if (!s.precpu_stats?.system_cpu_usage) return 0; // no previous reading yet
  const cpu = (s.cpu_stats?.cpu_usage?.total_usage ?? 0) - (s.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const system = (s.cpu_stats?.system_cpu_usage ?? 0) - (s.precpu_stats?.system_cpu_usage ?? 0);
  const cpus = s.cpu_stats?.online_cpus || s.cpu_stats?.cpu_usage?.percpu_usage?.length || 1;
  return system > 0 && cpu > 0 ? (cpu / system) * cpus * 100 : 0;
}

/** docker's memory usage: usage minus the page cache (inactive_file on v2, total_inactive_file or cache on v1). */
export function memoryUsage(s: StatsSample): number {
  const usage = s.memory_stats?.usage ?? 0;
  const stats = s.memory_stats?.stats ?? {};
  const cache = stats.total_inactive_file ?? stats.inactive_file ?? stats.cache ?? 0;
  return cache < usage ? usage - cache : usage;
}

function blockIo(s: StatsSample): [number, number] {
  let read = 0;
  let write = 0;
  for (const entry of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = entry.op.toLowerCase();
    if (op === 'read') read += entry.value;
    else if (op === 'write') write += entry.value;
  }
  return [read, write];
}

/** A stats sample as the row docker shows. */
export function statsContext(s: StatsSample, fallbackId: string, noTrunc = false): StatsContext {
  const id = s.id || fallbackId;
  const mem = memoryUsage(s);
  const limit = s.memory_stats?.limit ?? 0;
  const rx = Object.values(s.networks ?? {}).reduce((n, i) => n + i.rx_bytes, 0);
  const tx = Object.values(s.networks ?? {}).reduce((n, i) => n + i.tx_bytes, 0);
  const [read, write] = blockIo(s);
  return {
    Container: fallbackId,
    ID: noTrunc ? id : shortId(id),
    Name: (s.name ?? '').replace(/^\//, '') || '--',
    CPUPerc: `${cpuPercent(s).toFixed(2)}%`,
    MemUsage: `${binarySize(mem)} / ${binarySize(limit)}`,
    MemPerc: `${(limit > 0 ? (mem / limit) * 100 : 0).toFixed(2)}%`,
    NetIO: `${humanSize(rx)} / ${humanSize(tx)}`,
    BlockIO: `${humanSize(read)} / ${humanSize(write)}`,
    PIDs: String(s.pids_stats?.current ?? 0),
  };
}

/** The stats table (or json lines / template) for the latest sample of each container. */
export function renderStats(rows: readonly StatsContext[], format?: string): string {
  return renderList(rows, STATS_COLUMNS, format);
}
