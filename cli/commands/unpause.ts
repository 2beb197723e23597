import { arg, defineCommand } from '../lib/command-declaration.js';
import { containerPath, forEachRef } from '../lib/container-ops.js';

/** `mini-docker unpause`: thaw a paused container. */
export default defineCommand({
  summary: 'Unpause all processes within one or more containers.',

  description: 'Thaws the processes of each paused container. Prints each name.\n\nExit codes: 0, or 1 when any container could not be unpaused.',

  examples: ['<%= config.bin %> unpause web'],

  variadic: true,

  args: {
    container: arg({ required: true, description: 'Container names or ids.' }),
  },

  async run(ctx, { argv }) {
    const code = await forEachRef(argv.map(String), async (ref) => {
      await ctx.client.call('POST', containerPath(ref, '/unpause'));
      return ref;
    }, { out: (l) => ctx.out(l), err: (l) => ctx.err(l) });
    if (code !== 0) ctx.exit(code);
  },
});
