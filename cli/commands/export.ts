import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../lib/base-command.js';
import { containerPath } from '../lib/container-ops.js';
import { writeArchive } from '../lib/file-io.js';

/** `mini-docker export`: a container's filesystem as a tar archive. */
export default class Export extends BaseCommand {
  static override summary = "Export a container's filesystem as a tar archive.";

  static override description = 'Writes the container\'s whole filesystem (image layers plus its changes) as a tar to -o FILE or stdout. The result can be imported again (mini-docker import) or run directly (mini-docker run FILE.tar ...).\n\nExit codes: 0, or 1.';

  static override examples = ['<%= config.bin %> export -o /tmp/web.tar web', '<%= config.bin %> export web > web.tar'];

  static override flags = {
    output: Flags.string({ char: 'o', summary: 'Write to a file, instead of STDOUT.' }),
  };

  static override args = {
    container: Args.string({ ignoreStdin: true, required: true, description: 'Container name or id.' }),
  };

  async run(): Promise<void> {
    const { flags, args } = await this.parse(Export);
    const res = await this.client.request('GET', containerPath(args.container, '/export'));
    await writeArchive(res, flags.output);
  }
}
