import { arg, defineCommand } from '../../lib/command-declaration.js';
import { networkPath } from '../../lib/container-ops.js';
import { DaemonError, errorLine } from '../../lib/errors.js';

/** `mini-docker network rm`: remove networks. */
export default defineCommand({
  summary: 'Remove one or more networks.',

  description: `Removes each network: its bridge, its rules and its resolver. A network a running container is connected to is refused ("has active endpoints"); stopped containers connected do not keep it, as in Docker (their start then fails with "network ID not found" until "network disconnect NETWORK CONTAINER"); the pre-defined bridge, host and none cannot be removed ("NAME is a pre-defined network and cannot be removed"). Prints each name as given.

Exit codes: 0; 1 when any network could not be removed (the others still are).`,

  examples: ['<%= config.bin %> network rm app', '<%= config.bin %> network rm app backend', '<%= config.bin %> network rm 3f2a9c01'],

  variadic: true,

  args: {
    network: arg({ required: true, description: 'Network names or ids.' }),
  },

  usage: 'NETWORK [NETWORK...]',

  async run(ctx, { argv }) {
    let failed = false;
    for (const ref of argv.map(String)) {
      try {
        await ctx.client.call('DELETE', networkPath(ref));
        ctx.out(ref);
      } catch (err) {
        if (!(err instanceof DaemonError)) throw err;
        ctx.err(errorLine(err));
        failed = true;
      }
    }
    if (failed) ctx.exit(1);
  },
});
