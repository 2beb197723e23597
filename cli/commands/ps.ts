import type { ContainerSummary } from '../lib/api-types.js';
import { defineCommand, flag } from '../lib/command-declaration.js';
import { filtersJson } from '../lib/events-view.js';
import { renderPs } from '../lib/ps-view.js';

/** `mini-docker ps`: list containers. */
export default defineCommand({
  summary: 'List containers.',

  description: `Shows running containers (all with -a) in docker's columns: CONTAINER ID (12 hex), IMAGE, COMMAND, CREATED, STATUS, PORTS (\`0.0.0.0:8080->80/tcp, 443/tcp\`: published ports, then exposed ones, while it runs), NAMES.

--format takes "table" (default), "json" (one object per line), "table <template>" or a Go-like template such as '{{.ID}} {{.Names}}' (fields: ID, Image, Command, CreatedAt, RunningFor, State, Status, Ports, Names, Labels). --json prints the daemon's raw container list.`,

  examples: [
    '<%= config.bin %> ps',
    '<%= config.bin %> ps -a',
    '<%= config.bin %> ps -aq',
    "<%= config.bin %> ps --format '{{.ID}}\\t{{.Status}}'",
    '<%= config.bin %> ps --filter status=exited --filter name=web',
  ],

  json: true,

  flags: {
    all: flag.boolean({ char: 'a', summary: 'Show all containers (default shows just running).' }),
    quiet: flag.boolean({ char: 'q', summary: 'Only display container IDs.' }),
    'no-trunc': flag.boolean({ summary: "Don't truncate output." }),
    format: flag.string({ summary: 'Format: table, json, or a Go-like template.' }),
    filter: flag.string({ char: 'f', summary: 'Filter output (status=, name=, id=, label=, ...); repeatable.', multiple: true }),
    last: flag.integer({ char: 'n', summary: 'Show the n last created containers (all states).' }),
    latest: flag.boolean({ char: 'l', summary: 'Show the latest created container (all states).' }),
  },

  async run(ctx, { flags }) {
    const filters = filtersJson(flags.filter);
    const limit = flags.latest ? 1 : flags.last;
    const containers = await ctx.client.json<ContainerSummary[]>('GET', '/containers/json', {
      query: { all: flags.all || undefined, limit: limit && limit > 0 ? limit : undefined, filters },
    });
    process.stdout.write(ctx.jsonEnabled ? '' : renderPs(containers, { quiet: flags.quiet, noTrunc: flags['no-trunc'], format: flags.format, now: Date.now() }));
    return containers;
  },
});
