import { arg, defineCommand, flag } from '../lib/command-declaration.js';
import { writeArchive } from '../lib/file-io.js';

/** `mini-docker save`: images as a tar archive. */
export default defineCommand({
  summary: 'Save one or more images to a tar archive (streamed to STDOUT by default).',

  description: 'Writes the images (layers, configs, tags) as a docker-save style tar to -o FILE or stdout; mini-docker load reads it back.\n\nExit codes: 0, or 1 (no such image).',

  examples: ['<%= config.bin %> save -o /tmp/images.tar busybox snap:v1', '<%= config.bin %> save busybox > busybox-image.tar'],

  variadic: true,

  flags: {
    output: flag.string({ char: 'o', summary: 'Write to a file, instead of STDOUT.' }),
  },

  args: {
    image: arg({ required: true, description: 'Image names or ids.' }),
  },

  async run(ctx, { flags, argv }) {
    const res = await ctx.client.request('GET', '/images/get', { query: { names: argv.map(String) } });
    await writeArchive(res, flags.output);
  },
});
