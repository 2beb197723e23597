/** What the limiter reads about the host and this process from /proc. */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';

export interface V1Hierarchy {
  /** The hierarchy id (first field of /proc/self/cgroup). */
  readonly id: number;
  /** Controllers mounted together, e.g. ["cpu", "cpuacct"]; named hierarchies are "name=systemd". */
  readonly controllers: readonly string[];
  /** This process's cgroup in that hierarchy, e.g. "/process_api/c8a2…". */
  readonly path: string;
}

export interface ProcCgroup {
  /** The path on the "0::" line (cgroup v2), or null. */
  readonly unified: string | null;
  readonly v1: readonly V1Hierarchy[];
}

/** Parses /proc/<pid>/cgroup: "4:memory:/process_api/c8a2…", "3:cpu,cpuacct:/", "0::/user.slice". */
export function parseProcCgroup(text: string): ProcCgroup {
  let unified: string | null = null;
  const v1: V1Hierarchy[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    const id = Number(m[1]);
    const controllers = m[2]!;
    if (id === 0 && controllers === '') unified = m[3]!;
    else v1.push({ id, controllers: controllers.split(',').filter(Boolean), path: m[3]! });
  }
  return { unified, v1 };
}

/** Reads this process's /proc/self/cgroup; the backends take such a reader so tests can pretend. */
export type SelfCgroupReader = () => string;
export const readSelfCgroup: SelfCgroupReader = () => readFileSync('/proc/self/cgroup', 'utf8');

/** Host figures for stats. */
export interface HostInfo {
  /** MemTotal in bytes (the memory limit reported when there is none). */
  memTotal(): Promise<number>;
  /** Host CPU time in nanoseconds from /proc/stat (Docker's system_cpu_usage). */
  systemCpuNanos(): Promise<number>;
  onlineCpus(): number;
}

/** USER_HZ: /proc/stat counts in 1/100 s on every Linux architecture Node runs on. */
const CLOCK_TICKS = 100;

export class ProcHostInfo implements HostInfo {
  constructor(private readonly procRoot = '/proc') {}

  async memTotal(): Promise<number> {
    const m = /^MemTotal:\s+(\d+) kB/m.exec(await readFile(`${this.procRoot}/meminfo`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  }

  async systemCpuNanos(): Promise<number> {
    const line = (await readFile(`${this.procRoot}/stat`, 'utf8')).split('\n').find((l) => l.startsWith('cpu '));
    if (!line) return 0;
    // user nice system idle iowait irq softirq, as Docker sums them.
    const ticks = line.trim().split(/\s+/).slice(1, 8).reduce((sum, v) => sum + Number(v), 0);
    return (ticks * 1e9) / CLOCK_TICKS;
  }

  onlineCpus(): number {
    return availableParallelism();
  }
}
