import { flag } from './command-declaration.js';

/**
 * The resource flags of run, create and update, in Docker's spelling (plus the original
 * project's `-c 'QUOTA PERIOD'`). Values are parsed client-side by the core's parser and sent in
 * HostConfig field names (Memory, NanoCpus, CpuQuota, ...).
 */
export const limitFlags = {
  memory: flag.string({ char: 'm', summary: 'Memory limit (e.g. 2000m, 1g; at least 6m).', helpGroup: 'RESOURCES' }),
  'memory-swap': flag.string({ summary: 'Memory plus swap limit, or -1 for unlimited swap.', helpGroup: 'RESOURCES' }),
  'memory-reservation': flag.string({ summary: 'Memory soft limit.', helpGroup: 'RESOURCES' }),
  cpu: flag.string({
    char: 'c',
    summary: "CPU quota and period in microseconds, 'QUOTA PERIOD' (the original project's -c, cgroup cpu.max).",
    description: "'10000 100000' is 10% of one CPU; 'max 100000' means no quota.",
    helpGroup: 'RESOURCES',
  }),
  cpus: flag.string({ summary: 'Number of CPUs (e.g. 0.5).', helpGroup: 'RESOURCES' }),
  'cpu-quota': flag.string({ summary: 'CPU CFS quota in microseconds per period (-1 unlimited).', helpGroup: 'RESOURCES' }),
  'cpu-period': flag.string({ summary: 'CPU CFS period in microseconds.', helpGroup: 'RESOURCES' }),
  'cpu-shares': flag.string({ summary: 'CPU shares (relative weight, 1024 default).', helpGroup: 'RESOURCES' }),
  'cpuset-cpus': flag.string({ summary: 'CPUs the container may use (0-3, 0,1).', helpGroup: 'RESOURCES' }),
  'cpuset-mems': flag.string({ summary: 'Memory nodes the container may use (0-3, 0,1).', helpGroup: 'RESOURCES' }),
  'pids-limit': flag.string({ summary: 'Maximum number of processes (-1 unlimited).', helpGroup: 'RESOURCES' }),
  'blkio-weight': flag.string({ summary: 'Block IO weight (10 to 1000, 0 default).', helpGroup: 'RESOURCES' }),
  'device-read-bps': flag.string({ summary: 'Limit read rate from a device (/dev/sda:1mb); repeatable.', multiple: true, helpGroup: 'RESOURCES' }),
  'device-write-bps': flag.string({ summary: 'Limit write rate to a device (/dev/sda:1mb); repeatable.', multiple: true, helpGroup: 'RESOURCES' }),
};

export { limitsFromFlags, type LimitFlagValues } from './limit-values.js';
