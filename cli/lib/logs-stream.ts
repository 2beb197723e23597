import { containerPath, inspectContainer } from './container-ops.js';
import type { DaemonClient } from './daemon-client.js';
import { StdcopyDemuxer } from './stdcopy.js';

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
  const c = await inspectContainer(client, ref);
  const res = await client.request('GET', containerPath(c.Id, '/logs'), {
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
  const demuxer = c.Config.Tty ? undefined : new StdcopyDemuxer((stream, payload) => (stream === 'stdout' ? process.stdout : process.stderr).write(payload));
  for await (const chunk of res) {
    const bytes = chunk as Buffer;
    if (demuxer) demuxer.push(bytes);
    else process.stdout.write(bytes);
  }
}
