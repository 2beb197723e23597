import { arg, defineCommand, flag } from '../lib/command-declaration.js';
import { CliError } from '../lib/errors.js';
import { streamLogs } from '../lib/logs-stream.js';
import { apiTimeParam } from '../lib/timestamps.js';

/** `mini-docker logs`: a container's output. */
export default defineCommand({
  summary: 'Fetch the logs of a container.',

  description: `Prints what the container wrote, stdout to stdout and stderr to stderr (a TTY container has one merged stream). -f keeps following until the container stops.

--since/--until take RFC 3339 times, unix seconds, or durations relative to now ("10m", "1h").`,

  examples: [
    '<%= config.bin %> logs web',
    '<%= config.bin %> logs -f --tail 20 web',
    '<%= config.bin %> logs -t --since 10m web',
  ],

  flags: {
    follow: flag.boolean({ char: 'f', summary: 'Follow log output.' }),
    tail: flag.string({ char: 'n', summary: 'Number of lines to show from the end of the logs, or "all".', default: 'all' }),
    since: flag.string({ summary: 'Show logs since a time (RFC 3339, unix seconds, or relative like 42m).' }),
    until: flag.string({ summary: 'Show logs before a time (RFC 3339, unix seconds, or relative like 42m).' }),
    timestamps: flag.boolean({ char: 't', summary: 'Show timestamps.' }),
    details: flag.boolean({ summary: 'Show extra details provided to logs.' }),
  },

  args: {
    container: arg({ required: true, description: 'Container name or id.' }),
  },

  async run(ctx, { flags, args }) {
    if (flags.tail !== 'all' && !/^-?\d+$/.test(flags.tail)) throw new CliError(`invalid value for --tail: ${flags.tail} (a number or "all")`);
    let since: string | undefined;
    let until: string | undefined;
    try {
      since = flags.since === undefined ? undefined : apiTimeParam(flags.since);
      until = flags.until === undefined ? undefined : apiTimeParam(flags.until);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    await streamLogs(ctx.client, args.container, {
      follow: flags.follow, tail: flags.tail, timestamps: flags.timestamps, details: flags.details,
      ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}),
    });
  },
});
