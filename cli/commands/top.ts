import type { TopResponse } from '../lib/api-types.js';
import { arg, defineCommand } from '../lib/command-declaration.js';
import { containerPath } from '../lib/container-ops.js';
import { renderTable } from '../lib/table.js';

/** `mini-docker top`: the processes of a container. */
export default defineCommand({
  summary: 'Display the running processes of a container.',

  description: 'Lists the processes in the container\'s cgroup as ps shows them on the host; extra arguments are ps options (default -ef).\n\nExit codes: 0, or 1 (no such container, not running).',

  examples: ['<%= config.bin %> top web', '<%= config.bin %> top web -o pid,comm', '<%= config.bin %> top web --json'],

  json: true,

  stopAtFirstArg: true,

  usage: 'CONTAINER [ps OPTIONS]',

  args: {
    container: arg({ required: true, description: 'Container name or id.' }),
    psOptions: arg({ description: 'ps options (e.g. aux).' }),
  },

  async run(ctx, { argv }) {
    const [ref, ...psArgs] = argv as [string, ...string[]];
    const top = await ctx.client.json<TopResponse>('GET', containerPath(ref, '/top'), { query: { ps_args: psArgs.length > 0 ? psArgs.join(' ') : undefined } });
    if (!ctx.jsonEnabled) process.stdout.write(renderTable([top.Titles, ...top.Processes]));
    return top;
  },
});
