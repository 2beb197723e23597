import { arg, defineCommand, flag } from '../lib/command-declaration.js';
import { containerPath, forEachRef } from '../lib/container-ops.js';

/** `mini-docker restart`: stop then start. */
export default defineCommand({
  summary: 'Restart one or more containers.',

  description: 'Stops each container (SIGTERM, SIGKILL after -t seconds) and starts it again. Prints each name.\n\nExit codes: 0, or 1 when any container could not be restarted.',

  examples: ['<%= config.bin %> restart web', '<%= config.bin %> restart -t 2 web db'],

  variadic: true,

  flags: {
    time: flag.integer({ char: 't', summary: 'Seconds to wait for stop before killing the container.' }),
  },

  args: {
    container: arg({ required: true, description: 'Container names or ids.' }),
  },

  async run(ctx, { flags, argv }) {
    const code = await forEachRef(argv.map(String), async (ref) => {
      await ctx.client.call('POST', containerPath(ref, '/restart'), { query: { t: flags.time } });
      return ref;
    }, { out: (l) => ctx.out(l), err: (l) => ctx.err(l) });
    if (code !== 0) ctx.exit(code);
  },
});
