import { arg, defineCommand, flag } from '../lib/command-declaration.js';
import { containerPath, forEachRef } from '../lib/container-ops.js';

/** `mini-docker kill`: send a signal. */
export default defineCommand({
  summary: 'Kill one or more running containers.',

  description: 'Sends SIGKILL, or the signal given with -s (a name such as TERM or SIGTERM, or a number). Prints each name.\n\nExit codes: 0, or 1 when any container could not be signalled (e.g. it is not running).',

  examples: ['<%= config.bin %> kill web', '<%= config.bin %> kill -s HUP web'],

  variadic: true,

  flags: {
    signal: flag.string({ char: 's', summary: 'Signal to send to the container.', default: 'KILL' }),
  },

  args: {
    container: arg({ required: true, description: 'Container names or ids.' }),
  },

  async run(ctx, { flags, argv }) {
    const code = await forEachRef(argv.map(String), async (ref) => {
      await ctx.client.call('POST', containerPath(ref, '/kill'), { query: { signal: flags.signal } });
      return ref;
    }, { out: (l) => ctx.out(l), err: (l) => ctx.err(l) });
    if (code !== 0) ctx.exit(code);
  },
});
