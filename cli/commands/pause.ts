import { arg, defineCommand } from '../lib/command-declaration.js';
import { containerPath, forEachRef } from '../lib/container-ops.js';

/** `mini-docker pause`: freeze all processes (cgroup freezer). */
export default defineCommand({
  summary: 'Pause all processes within one or more containers.',

  description: 'Freezes every process of each container with the cgroup freezer; ps shows it as Up … (Paused). Prints each name.\n\nExit codes: 0, or 1 when any container could not be paused.',

  examples: ['<%= config.bin %> pause web'],

  variadic: true,

  args: {
    container: arg({ required: true, description: 'Container names or ids.' }),
  },

  async run(ctx, { argv }) {
    const code = await forEachRef(argv.map(String), async (ref) => {
      await ctx.client.call('POST', containerPath(ref, '/pause'));
      return ref;
    }, { out: (l) => ctx.out(l), err: (l) => ctx.err(l) });
    if (code !== 0) ctx.exit(code);
  },
});
