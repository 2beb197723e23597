import { containerPath } from './container-ops.js';
import type { DaemonClient } from './daemon-client.js';
import { RAW_STREAM, StdcopyDemuxer } from './stdcopy.js';

export interface LogsOptions {
  readonly follow?: boolean;
  readonly tail: string;
  /** API time parameters (already converted from the CLI's forms). */
  readonly since?: string;
  readonly until?: string;
  readonly timestamps?: boolean;
  readonly details?: boolean;
}

/**
 * Prints a container's log: stdout to stdout and stderr to stderr (demultiplexed), or the raw
 * stream of a TTY container. Shared by `mini-docker logs` and the CLI's fast path.
 */
export async function streamLogs(client: DaemonClient, ref: string, options: LogsOptions): Promise<void> {
  const res = await client.request('GET', containerPath(ref, '/logs'), {
    query: {
      stdout: true,
      stderr: true,
      follow: options.follow || undefined,
      tail: options.tail,
      since: options.since,
      until: options.until,
      timestamps: options.timestamps || undefined,
      details: options.details || undefined,
    },
  });
  process.once('SIGINT', () => {
    res.destroy();
    process.exit(0);
  });
  // The daemon says whether the log is framed (no tty) or raw (tty), as Docker's API does from 1.42.
  const raw = res.headers['content-type'] === RAW_STREAM;
  const demuxer = raw ? undefined : new StdcopyDemuxer((stream, payload) => (stream === 'stdout' ? process.stdout : process.stderr).write(payload));
  for await (const chunk of res) {
    const bytes = chunk as Buffer;
    if (demuxer) demuxer.push(bytes);
    else process.stdout.write(bytes);
  }
}
