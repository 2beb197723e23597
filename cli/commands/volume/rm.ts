import { arg, defineCommand, flag } from '../../lib/command-declaration.js';
import { DaemonError, errorLine } from '../../lib/errors.js';

/** `mini-docker volume rm`: remove volumes. */
export default defineCommand({
  summary: 'Remove one or more volumes.',

  description: `Removes each volume and its data, and prints its name. A volume a container uses (running or not) is refused, naming the container: remove the container first.

Exit codes: 0; 1 when any volume could not be removed. With -f a missing volume is no error.`,

  examples: ['<%= config.bin %> volume rm data', '<%= config.bin %> volume rm $(<%= config.bin %> volume ls -q -f dangling=true)'],

  variadic: true,

  flags: {
    force: flag.boolean({ char: 'f', summary: 'Do not fail when a volume does not exist.' }),
  },

  args: {
    volume: arg({ required: true, description: 'Volume names.' }),
  },

  async run(ctx, { flags, argv }) {
    let failed = false;
    for (const name of argv.map(String)) {
      try {
        await ctx.client.call('DELETE', `/volumes/${encodeURIComponent(name)}`, { query: { force: flags.force || undefined } });
        ctx.out(name);
      } catch (err) {
        if (!(err instanceof DaemonError)) throw err;
        ctx.err(errorLine(err));
        failed = true;
      }
    }
    if (failed) ctx.exit(1);
  },
});
