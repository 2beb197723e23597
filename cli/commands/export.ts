import { arg, defineCommand, flag } from '../lib/command-declaration.js';
import { containerPath } from '../lib/container-ops.js';
import { writeArchive } from '../lib/file-io.js';

/** `mini-docker export`: a container's filesystem as a tar archive. */
export default defineCommand({
  summary: "Export a container's filesystem as a tar archive.",

  description: 'Writes the container\'s whole filesystem (image layers plus its changes) as a tar to -o FILE or stdout. The result can be imported again (mini-docker import) or run directly (mini-docker run FILE.tar ...).\n\nExit codes: 0, or 1.',

  examples: ['<%= config.bin %> export -o /tmp/web.tar web', '<%= config.bin %> export web > web.tar'],

  flags: {
    output: flag.string({ char: 'o', summary: 'Write to a file, instead of STDOUT.' }),
  },

  args: {
    container: arg({ required: true, description: 'Container name or id.' }),
  },

  async run(ctx, { flags, args }) {
    const res = await ctx.client.request('GET', containerPath(args.container, '/export'));
    await writeArchive(res, flags.output);
  },
});
