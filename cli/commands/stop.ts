import { arg, defineCommand, flag } from '../lib/command-declaration.js';
import { containerPath, forEachRef } from '../lib/container-ops.js';

/** `mini-docker stop`: SIGTERM, then SIGKILL after the grace period. */
export default defineCommand({
  summary: 'Stop one or more running containers.',

  description: 'Sends the stop signal (SIGTERM unless -s), then SIGKILL after -t seconds (10 by default). Prints each name; stopping a stopped container is not an error.\n\nExit codes: 0, or 1 when any container could not be stopped.',

  examples: ['<%= config.bin %> stop web', '<%= config.bin %> stop -t 0 web db', '<%= config.bin %> stop -s SIGINT web'],

  variadic: true,

  flags: {
    time: flag.integer({ char: 't', summary: 'Seconds to wait before killing the container.' }),
    signal: flag.string({ char: 's', summary: 'Signal to send to the container.' }),
  },

  args: {
    container: arg({ required: true, description: 'Container names or ids.' }),
  },

  async run(ctx, { flags, argv }) {
    const code = await forEachRef(argv.map(String), async (ref) => {
      await ctx.client.call('POST', containerPath(ref, '/stop'), { query: { t: flags.time, signal: flags.signal } });
      return ref;
    }, { out: (l) => ctx.out(l), err: (l) => ctx.err(l) });
    if (code !== 0) ctx.exit(code);
  },
});
