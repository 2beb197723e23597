import { defineCommand, flag } from '../../lib/command-declaration.js';
import { confirm } from '../../lib/confirm.js';
import { filtersJson } from '../../lib/events-view.js';
import { humanSize } from '../../lib/human.js';

/** `mini-docker image prune`: remove unused images. */
export default defineCommand({
  summary: 'Remove unused images.',

  description: 'Removes dangling (untagged) images, or with -a every image no container uses. Asks for confirmation on a terminal unless -f; when stdin is not a terminal it never prompts and requires -f.\n\nExit codes: 0, or 1 (not confirmed, daemon error).',

  examples: ['<%= config.bin %> image prune -f', '<%= config.bin %> image prune -a -f'],

  flags: {
    all: flag.boolean({ char: 'a', summary: 'Remove all unused images, not just dangling ones.' }),
    force: flag.boolean({ char: 'f', summary: 'Do not prompt for confirmation.' }),
    filter: flag.string({ summary: 'Provide filter values (e.g. until=24h, label=x); repeatable.', multiple: true }),
  },

  async run(ctx, { flags }) {
    const warning = flags.all ? 'WARNING! This will remove all images without at least one container associated to them.' : 'WARNING! This will remove all dangling images.';
    if (!flags.force && !(await confirm(`${warning}\nAre you sure you want to continue?`))) return;
    const filters = filtersJson([...(flags.filter ?? []), ...(flags.all ? ['dangling=false'] : [])]);
    const result = await ctx.client.json<{ ImagesDeleted: readonly { Untagged?: string; Deleted?: string }[] | null; SpaceReclaimed: number }>('POST', '/images/prune', { query: { filters } });
    const deleted = result.ImagesDeleted ?? [];
    if (deleted.length > 0) {
      ctx.out(['Deleted Images:', ...deleted.map((d) => (d.Untagged !== undefined ? `untagged: ${d.Untagged}` : `deleted: ${d.Deleted ?? ''}`)), ''].join('\n'));
    }
    ctx.out(`Total reclaimed space: ${humanSize(result.SpaceReclaimed ?? 0)}`);
  },
});
