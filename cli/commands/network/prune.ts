import { defineCommand, flag } from '../../lib/command-declaration.js';
import { confirm } from '../../lib/confirm.js';
import { filtersJson } from '../../lib/events-view.js';

/** `mini-docker network prune`: remove unused networks. */
export default defineCommand({
  summary: 'Remove all unused networks.',

  description: `Removes every network made with network create that no container is connected to (never the default bridge), and prints their names. --filter takes label=KEY[=VALUE], label!=KEY[=VALUE] and until=DURATION|TIMESTAMP (e.g. until=24h: created more than a day ago). Asks for confirmation on a terminal unless -f; when stdin is not a terminal it never prompts and requires -f.

Exit codes: 0, or 1 (not confirmed, daemon error).`,

  examples: ['<%= config.bin %> network prune -f', '<%= config.bin %> network prune -f --filter until=24h', '<%= config.bin %> network prune -f --filter label!=keep'],

  flags: {
    force: flag.boolean({ char: 'f', summary: 'Do not prompt for confirmation.' }),
    filter: flag.string({ summary: 'Provide filter values (e.g. until=24h, label=x); repeatable.', multiple: true }),
  },

  async run(ctx, { flags }) {
    if (!flags.force && !(await confirm('WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?'))) return;
    const filters = filtersJson(flags.filter);
    const result = await ctx.client.json<{ NetworksDeleted: readonly string[] | null }>('POST', '/networks/prune', { query: { filters } });
    const deleted = result.NetworksDeleted ?? [];
    if (deleted.length > 0) ctx.out(['Deleted Networks:', ...deleted, ''].join('\n'));
  },
});
