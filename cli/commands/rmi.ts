import { arg, defineCommand, flag } from '../lib/command-declaration.js';
import { forEachRef, imagePath } from '../lib/container-ops.js';

/** `mini-docker rmi`: remove images. */
export default defineCommand({
  summary: 'Remove one or more images.',

  description: 'Untags each image and deletes it when no tag is left (and no container uses it, unless -f). Prints "Untagged: …" and "Deleted: …" lines like docker.\n\nExit codes: 0, or 1 when any image could not be removed.',

  examples: ['<%= config.bin %> rmi snap:v1', '<%= config.bin %> rmi -f 2b8c1a2d3e4f'],

  variadic: true,

  flags: {
    force: flag.boolean({ char: 'f', summary: 'Force removal of the image.' }),
    'no-prune': flag.boolean({ summary: 'Do not delete untagged parents.' }),
  },

  args: {
    image: arg({ required: true, description: 'Image names or ids.' }),
  },

  async run(ctx, { flags, argv }) {
    const code = await forEachRef(argv.map(String), async (ref) => {
      const items = await ctx.client.json<readonly { Untagged?: string; Deleted?: string }[]>('DELETE', imagePath(ref), {
        query: { force: flags.force || undefined, noprune: flags['no-prune'] || undefined },
      });
      const lines = (items ?? []).map((i) => (i.Untagged !== undefined ? `Untagged: ${i.Untagged}` : `Deleted: ${i.Deleted ?? ''}`));
      return lines.length > 0 ? lines.join('\n') : undefined;
    }, { out: (l) => ctx.out(l), err: (l) => ctx.err(l) });
    if (code !== 0) ctx.exit(code);
  },
});
