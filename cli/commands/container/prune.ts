import { defineCommand, flag } from '../../lib/command-declaration.js';
import { confirm } from '../../lib/confirm.js';
import { filtersJson } from '../../lib/events-view.js';
import { humanSize } from '../../lib/human.js';

/** `mini-docker container prune`: remove all stopped containers. */
export default defineCommand({
  summary: 'Remove all stopped containers.',

  description: 'Asks for confirmation on a terminal unless -f; when stdin is not a terminal it never prompts and requires -f. Prints the removed ids and the reclaimed space.\n\nExit codes: 0, or 1 (not confirmed, daemon error).',

  examples: ['<%= config.bin %> container prune', '<%= config.bin %> container prune -f'],

  flags: {
    force: flag.boolean({ char: 'f', summary: 'Do not prompt for confirmation.' }),
    filter: flag.string({ summary: 'Provide filter values (e.g. until=24h, label=x); repeatable.', multiple: true }),
  },

  async run(ctx, { flags }) {
    if (!flags.force && !(await confirm('WARNING! This will remove all stopped containers.\nAre you sure you want to continue?'))) return;
    const result = await ctx.client.json<{ ContainersDeleted: readonly string[] | null; SpaceReclaimed: number }>('POST', '/containers/prune', { query: { filters: filtersJson(flags.filter) } });
    const deleted = result.ContainersDeleted ?? [];
    if (deleted.length > 0) ctx.out(['Deleted Containers:', ...deleted, ''].join('\n'));
    ctx.out(`Total reclaimed space: ${humanSize(result.SpaceReclaimed ?? 0)}`);
  },
});
