import type { Limits } from '../../events/index.js';
import { parseLimitFlags } from '../../core/limits/parse-limits.js';
import { CliError } from './errors.js';

// The parsed values of the resource flags and their conversion, apart from the flag definitions
// (limit-flags.ts) so that code which does not load oclif can use them (cli/fast-path.ts).

/** The values of `limitFlags` after parsing. */
export interface LimitFlagValues {
  readonly memory?: string;
  readonly 'memory-swap'?: string;
  readonly 'memory-reservation'?: string;
  readonly cpu?: string;
  readonly cpus?: string;
  readonly 'cpu-quota'?: string;
  readonly 'cpu-period'?: string;
  readonly 'cpu-shares'?: string;
  readonly 'cpuset-cpus'?: string;
  readonly 'cpuset-mems'?: string;
  readonly 'pids-limit'?: string;
  readonly 'blkio-weight'?: string;
  readonly 'device-read-bps'?: readonly string[];
  readonly 'device-write-bps'?: readonly string[];
}

/** Parses the resource flags into HostConfig limits; a bad value is a CliError with `exitCode`. */
export function limitsFromFlags(flags: LimitFlagValues, exitCode: number): Limits {
  try {
    const { cpu, ...rest } = flags;
    return parseLimitFlags({ ...rest, 'cpu-max': cpu });
  } catch (err) {
    throw new CliError((err as Error).message, exitCode);
  }
}
