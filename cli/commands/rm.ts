import { arg, defineCommand, flag } from '../lib/command-declaration.js';
import { containerPath } from '../lib/container-ops.js';
import { DaemonError, errorLine, isNotFound } from '../lib/errors.js';

/** `mini-docker rm`: remove containers. */
export default defineCommand({
  summary: 'Remove one or more containers.',

  description: `Removes each container and everything it had (its rootfs, cgroups, logs). A running container needs -f (then it is killed first). With -v its anonymous volumes (-v /path, the image's VOLUME) go too; named volumes stay. Prints each name.

Exit codes: 0; 1 when any container could not be removed. With -f a missing container is reported but does not fail the command (docker's behaviour).`,

  examples: ['<%= config.bin %> rm web', '<%= config.bin %> rm -f web db', '<%= config.bin %> rm $(<%= config.bin %> ps -aq)'],

  variadic: true,

  flags: {
    force: flag.boolean({ char: 'f', summary: 'Force the removal of a running container (uses SIGKILL).' }),
    volumes: flag.boolean({ char: 'v', summary: 'Remove the anonymous volumes of the container (named volumes stay).' }),
  },

  args: {
    container: arg({ required: true, description: 'Container names or ids.' }),
  },

  async run(ctx, { flags, argv }) {
    let failed = false;
    for (const ref of argv.map(String)) {
      try {
        await ctx.client.call('DELETE', containerPath(ref), { query: { force: flags.force || undefined, v: flags.volumes || undefined } });
        ctx.out(ref);
      } catch (err) {
        if (!(err instanceof DaemonError)) throw err;
        ctx.err(errorLine(err));
        if (!(flags.force && isNotFound(err))) failed = true;
      }
    }
    if (failed) ctx.exit(1);
  },
});
