import { statSync } from 'node:fs';
import type { ProgressMessage } from '../lib/api-types.js';
import { arg, defineCommand, flag } from '../lib/command-declaration.js';
import { jsonLines } from '../lib/daemon-client.js';
import { CliError } from '../lib/errors.js';
import { openInput } from '../lib/file-io.js';
import { ByteProgress } from '../lib/progress.js';

/** `mini-docker import`: an image from a rootfs tarball. */
export default defineCommand({
  summary: 'Import the contents from a tarball to create a filesystem image.',

  description: `Uploads FILE (or stdin for "-") as a single-layer image, optionally named REPOSITORY[:TAG], with its config set by -c Dockerfile lines. Shows a byte progress bar when stderr is a terminal; quiet otherwise. Prints the image id.

Exit codes: 0, or 1 (unreadable file, not a tar, bad change line).`,

  examples: [
    '<%= config.bin %> import /tmp/busybox.tar busybox:latest',
    "cat rootfs.tar | <%= config.bin %> import -c 'CMD [\"sh\"]' - mine:v1",
    "<%= config.bin %> import -m 'from docker export' /tmp/linux.tar linux",
  ],

  flags: {
    message: flag.string({ char: 'm', summary: 'Commit message for the imported image.' }),
    change: flag.string({ char: 'c', summary: 'Apply a Dockerfile instruction to the image config; repeatable.', multiple: true }),
  },

  args: {
    file: arg({ required: true, description: 'Tarball path, or - for stdin.' }),
    repository: arg({ description: 'REPOSITORY[:TAG] for the image.' }),
  },

  async run(ctx, { flags, args }) {
    let total: number | undefined;
    if (args.file !== '-') {
      try {
        total = statSync(args.file).size;
      } catch (err) {
        throw new CliError(`open ${args.file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
      }
    }
    const progress = new ByteProgress('Importing', total);
    const input = openInput(args.file);
    input.on('error', (err) => progress.destroy(err));
    const body = input.pipe(progress);
    const res = await ctx.client.request('POST', '/images/create', {
      query: { fromSrc: '-', repo: args.repository, message: flags.message, changes: flags.change },
      body,
      contentType: 'application/x-tar',
    });
    let last: string | undefined;
    for await (const msg of jsonLines<ProgressMessage>(res)) {
      if (msg.errorDetail || msg.error) throw new CliError(msg.errorDetail?.message ?? msg.error ?? 'import failed');
      if (msg.status) last = msg.status;
    }
    progress.finish();
    if (last !== undefined) ctx.out(last);
  },
});
