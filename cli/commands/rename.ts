import { arg, defineCommand } from '../lib/command-declaration.js';
import { containerPath } from '../lib/container-ops.js';
import { CliError, DaemonError, errorLine } from '../lib/errors.js';

/** `mini-docker rename`: give a container a new name. */
export default defineCommand({
  summary: 'Rename a container.',

  description: 'Gives CONTAINER the name NEW_NAME (which must be free). Prints nothing.\n\nExit codes: 0, or 1 (no such container, name in use).',

  examples: ['<%= config.bin %> rename web web-old'],

  args: {
    container: arg({ required: true, description: 'Container name or id.' }),
    new_name: arg({ required: true, description: 'The new name.' }),
  },

  async run(ctx, { args }) {
    try {
      await ctx.client.call('POST', containerPath(args.container, '/rename'), { query: { name: args.new_name } });
    } catch (err) {
      if (!(err instanceof DaemonError)) throw err;
      // docker's two lines: the daemon's answer, then what failed
      ctx.err(errorLine(err));
      throw new CliError(`failed to rename container named ${args.container}`);
    }
  },
});
