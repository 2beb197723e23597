import type { ProgressMessage } from '../lib/api-types.js';
import { defineCommand, flag } from '../lib/command-declaration.js';
import { jsonLines } from '../lib/daemon-client.js';
import { CliError } from '../lib/errors.js';
import { openInput } from '../lib/file-io.js';

/** `mini-docker load`: images from a tar archive. */
export default defineCommand({
  summary: 'Load images from a tar archive or STDIN.',

  description: 'Reads an archive made by mini-docker save (or docker save) from -i FILE or stdin and prints "Loaded image: …" for each image.\n\nExit codes: 0, or 1 (unreadable or invalid archive).',

  examples: ['<%= config.bin %> load -i /tmp/images.tar', '<%= config.bin %> load < busybox-image.tar'],

  flags: {
    input: flag.string({ char: 'i', summary: 'Read from a tar archive file, instead of STDIN.' }),
    quiet: flag.boolean({ char: 'q', summary: 'Suppress the load output.' }),
  },

  async run(ctx, { flags }) {
    const body = openInput(flags.input);
    const res = await ctx.client.request('POST', '/images/load', { query: { quiet: flags.quiet || undefined }, body, contentType: 'application/x-tar' });
    for await (const msg of jsonLines<ProgressMessage>(res)) {
      if (msg.errorDetail || msg.error) throw new CliError(msg.errorDetail?.message ?? msg.error ?? 'load failed');
      // "Loaded image: …" always; progress ("Loading layer …") only on a terminal, as docker load.
      const text = msg.stream ?? (process.stdout.isTTY ? msg.status : undefined);
      if (text && !flags.quiet) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    }
  },
});
