import { statSync } from 'node:fs';
import { Args, Flags } from '@oclif/core';
import type { ProgressMessage } from '../lib/api-types.js';
import { BaseCommand } from '../lib/base-command.js';
import { jsonLines } from '../lib/daemon-client.js';
import { CliError } from '../lib/errors.js';
import { openInput } from '../lib/file-io.js';
import { ByteProgress } from '../lib/progress.js';

/** `mini-docker import`: an image from a rootfs tarball. */
export default class Import extends BaseCommand {
  static override summary = 'Import the contents from a tarball to create a filesystem image.';

  static override description = `Uploads FILE (or stdin for "-") as a single-layer image, optionally named REPOSITORY[:TAG], with its config set by -c Dockerfile lines. Shows a byte progress bar when stderr is a terminal; quiet otherwise. Prints the image id.

Exit codes: 0, or 1 (unreadable file, not a tar, bad change line).`;

  static override examples = [
    '<%= config.bin %> import /tmp/busybox.tar busybox:latest',
    "cat rootfs.tar | <%= config.bin %> import -c 'CMD [\"sh\"]' - mine:v1",
    "<%= config.bin %> import -m 'from docker export' /tmp/linux.tar linux",
  ];

  static override flags = {
    message: Flags.string({ char: 'm', summary: 'Commit message for the imported image.' }),
    change: Flags.string({ char: 'c', summary: 'Apply a Dockerfile instruction to the image config; repeatable.', multiple: true, multipleNonGreedy: true }),
  };

  static override args = {
    file: Args.string({ ignoreStdin: true, required: true, description: 'Tarball path, or - for stdin.' }),
    repository: Args.string({ ignoreStdin: true, description: 'REPOSITORY[:TAG] for the image.' }),
  };

  async run(): Promise<void> {
    const { flags, args } = await this.parse(Import);
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
    const res = await this.client.request('POST', '/images/create', {
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
    if (last !== undefined) this.out(last);
  }
}
