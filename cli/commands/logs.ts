import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../lib/base-command.js';
import { CliError } from '../lib/errors.js';
import { streamLogs } from '../lib/logs-stream.js';
import { apiTimeParam } from '../lib/timestamps.js';

/** `mini-docker logs`: a container's output. */
export default class Logs extends BaseCommand {
  static override summary = 'Fetch the logs of a container.';

  static override description = `Prints what the container wrote, stdout to stdout and stderr to stderr (a TTY container has one merged stream). -f keeps following until the container stops.

--since/--until take RFC 3339 times, unix seconds, or durations relative to now ("10m", "1h").`;

  static override examples = [
    '<%= config.bin %> logs web',
    '<%= config.bin %> logs -f --tail 20 web',
    '<%= config.bin %> logs -t --since 10m web',
  ];

  static override flags = {
    follow: Flags.boolean({ char: 'f', summary: 'Follow log output.' }),
    tail: Flags.string({ char: 'n', summary: 'Number of lines to show from the end of the logs, or "all".', default: 'all' }),
    since: Flags.string({ summary: 'Show logs since a time (RFC 3339, unix seconds, or relative like 42m).' }),
    until: Flags.string({ summary: 'Show logs before a time (RFC 3339, unix seconds, or relative like 42m).' }),
    timestamps: Flags.boolean({ char: 't', summary: 'Show timestamps.' }),
    details: Flags.boolean({ summary: 'Show extra details provided to logs.' }),
  };

  static override args = {
    container: Args.string({ ignoreStdin: true, required: true, description: 'Container name or id.' }),
  };

  async run(): Promise<void> {
    const { flags, args } = await this.parse(Logs);
    if (flags.tail !== 'all' && !/^-?\d+$/.test(flags.tail)) throw new CliError(`invalid value for --tail: ${flags.tail} (a number or "all")`);
    let since: string | undefined;
    let until: string | undefined;
    try {
      since = flags.since === undefined ? undefined : apiTimeParam(flags.since);
      until = flags.until === undefined ? undefined : apiTimeParam(flags.until);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    await streamLogs(this.client, args.container, {
      follow: flags.follow, tail: flags.tail, timestamps: flags.timestamps, details: flags.details,
      ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}),
    });
  }
}
