import type { WaitResponse } from '../lib/api-types.js';
import { arg, defineCommand } from '../lib/command-declaration.js';
import { containerPath, forEachRef } from '../lib/container-ops.js';

/** `mini-docker wait`: block until containers stop; print their exit codes. */
export default defineCommand({
  summary: 'Block until one or more containers stop, then print their exit codes.',

  description: 'Waits for each container in turn (condition not-running: a container that has already exited returns at once) and prints its exit code.\n\nExit codes: 0, or 1 when any container was not found.',

  examples: ['<%= config.bin %> wait job', '<%= config.bin %> wait job1 job2'],

  variadic: true,

  args: {
    container: arg({ required: true, description: 'Container names or ids.' }),
  },

  async run(ctx, { argv }) {
    const code = await forEachRef(argv.map(String), async (ref) => {
      const result = await ctx.client.json<WaitResponse>('POST', containerPath(ref, '/wait'), { query: { condition: 'not-running' } });
      if (result.Error?.Message) ctx.err(`Error: ${result.Error.Message}`);
      return String(result.StatusCode);
    }, { out: (l) => ctx.out(l), err: (l) => ctx.err(l) });
    if (code !== 0) ctx.exit(code);
  },
});
