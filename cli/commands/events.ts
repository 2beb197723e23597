import type { DockerEvent } from '../lib/api-types.js';
import { defineCommand, flag } from '../lib/command-declaration.js';
import { textLines } from '../lib/daemon-client.js';
import { CliError } from '../lib/errors.js';
import { filtersJson, formatEventLine, parseEventLine } from '../lib/events-view.js';
import { Template } from '../lib/template.js';
import { apiTimeParam } from '../lib/timestamps.js';

/** `mini-docker events`: the daemon's event stream, past and live. */
export default defineCommand({
  summary: 'Get real-time events from the daemon.',

  description: `Prints events from the event log like docker: "2026-11-28T16:04:51.592270080Z container create ffff… (image=alpine, name=demo)". Past events between --since and --until come first; without --until the command keeps following live events until interrupted.

--since/--until take RFC 3339 times ("2026-11-28T16:04:51Z", "2026-11-28"), unix seconds ("1700000000.5"), or durations relative to now ("10m", "1h30m"). --json implies --until now when no --until is given, and prints the list at the end.`,

  examples: [
    '<%= config.bin %> events',
    '<%= config.bin %> events --since 10m --until 0s',
    '<%= config.bin %> events --filter container=web --filter event=die',
    '<%= config.bin %> events --steps --since 1m --until 0s --filter container=web',
    '<%= config.bin %> events --since 2026-11-28T16:00:00Z --format json',
  ],

  json: true,

  flags: {
    since: flag.string({ summary: 'Show events created since this time (RFC 3339, unix seconds, or relative like 10m).' }),
    until: flag.string({ summary: 'Stream events until this time (RFC 3339, unix seconds, or relative like 10m).' }),
    filter: flag.string({ char: 'f', summary: 'Filter: type=, container=, event=, image=, volume= (repeatable).', multiple: true }),
    steps: flag.boolean({ summary: 'Also show each command\'s intent and driver steps (start-intent, start-step ..., not Docker events).', default: false }),
    format: flag.string({ summary: "Format: json (one object per line) or a Go-like template ('{{.Action}} {{.Actor.ID}}')." }),
  },

  async run(ctx, { flags }) {
    const now = Date.now();
    let since: string | undefined;
    let until: string | undefined;
    const filters = filtersJson(flags.filter);
    try {
      since = flags.since === undefined ? undefined : apiTimeParam(flags.since, now);
      until = flags.until === undefined ? (ctx.jsonEnabled ? String(Math.floor(now / 1000)) : undefined) : apiTimeParam(flags.until, now);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    const json = flags.format === 'json' || flags.format === '{{json .}}';
    const template = flags.format && !json ? new Template(flags.format) : undefined;
    const collected: DockerEvent[] = [];
    const res = await ctx.client.request('GET', '/events', { query: { since, until, filters, ...(flags.steps ? { steps: '1' } : {}) } });
    // Ctrl-C ends a followed stream normally, like docker.
    process.once('SIGINT', () => {
      res.destroy();
      process.exit(0);
    });
    for await (const line of textLines(res)) {
      const received = parseEventLine(line);
      if (ctx.jsonEnabled) collected.push(received.event);
      else if (json) ctx.out(received.raw);
      else if (template) ctx.out(template.render(received.event));
      else ctx.out(formatEventLine(received.event, received.nanos));
    }
    return collected;
  },
});
