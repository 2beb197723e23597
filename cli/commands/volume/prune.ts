import { defineCommand, flag } from '../../lib/command-declaration.js';
import { confirm } from '../../lib/confirm.js';
import { filtersJson } from '../../lib/events-view.js';
import { humanSize } from '../../lib/human.js';

/** `mini-docker volume prune`: remove unused volumes. */
export default defineCommand({
  summary: 'Remove unused volumes.',

  description: `Removes the anonymous volumes no container uses (running or not), or with -a every unused volume, named ones too (as Docker since API 1.42). Asks for confirmation on a terminal unless -f; when stdin is not a terminal it never prompts and requires -f.

Exit codes: 0, or 1 (not confirmed, daemon error).`,

  examples: ['<%= config.bin %> volume prune -f', '<%= config.bin %> volume prune -a -f --filter label=tmp'],

  flags: {
    all: flag.boolean({ char: 'a', summary: 'Remove all unused volumes, not just anonymous ones.' }),
    force: flag.boolean({ char: 'f', summary: 'Do not prompt for confirmation.' }),
    filter: flag.string({ summary: 'Provide filter values (e.g. label=x, name=part); repeatable.', multiple: true }),
  },

  async run(ctx, { flags }) {
    const warning = flags.all ? 'WARNING! This will remove all local volumes not used by at least one container.' : 'WARNING! This will remove anonymous local volumes not used by at least one container.';
    if (!flags.force && !(await confirm(`${warning}\nAre you sure you want to continue?`))) return;
    const filters = filtersJson([...(flags.filter ?? []), ...(flags.all ? ['all=true'] : [])]);
    const result = await ctx.client.json<{ VolumesDeleted: readonly string[] | null; SpaceReclaimed: number }>('POST', '/volumes/prune', { query: { filters } });
    const deleted = result.VolumesDeleted ?? [];
    if (deleted.length > 0) ctx.out(['Deleted Volumes:', ...deleted, ''].join('\n'));
    ctx.out(`Total reclaimed space: ${humanSize(result.SpaceReclaimed ?? 0)}`);
  },
});
