import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../lib/base-command.js';
import { writeArchive } from '../lib/file-io.js';

/** `mini-docker save`: images as a tar archive. */
export default class Save extends BaseCommand {
  static override summary = 'Save one or more images to a tar archive (streamed to STDOUT by default).';

  static override description = 'Writes the images (layers, configs, tags) as a docker-save style tar to -o FILE or stdout; mini-docker load reads it back.\n\nExit codes: 0, or 1 (no such image).';

  static override examples = ['<%= config.bin %> save -o /tmp/images.tar busybox snap:v1', '<%= config.bin %> save busybox > busybox-image.tar'];

  static override strict = false;

  static override flags = {
    output: Flags.string({ char: 'o', summary: 'Write to a file, instead of STDOUT.' }),
  };

  static override args = {
    image: Args.string({ ignoreStdin: true, required: true, description: 'Image names or ids.' }),
  };

  async run(): Promise<void> {
    const { flags, argv } = await this.parse(Save);
    const res = await this.client.request('GET', '/images/get', { query: { names: argv.map(String) } });
    await writeArchive(res, flags.output);
  }
}
