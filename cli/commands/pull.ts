import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../lib/base-command.js';
import { CliError } from '../lib/errors.js';
import { fullyQualified, pullImage } from '../lib/pull-image.js';

/** `mini-docker pull`: an image from a registry. */
export default class Pull extends BaseCommand {
  static override summary = 'Download an image from a registry.';

  static override description = `NAME is read as Docker reads it: busybox is docker.io/library/busybox:latest, HOST:PORT/REPO:TAG names another registry, NAME@sha256:… a digest. A multi-platform image resolves to this host's platform, or to --platform. Credentials come from the docker CLI's config.json (mini-docker login). Shows a line per layer (with a bar on a terminal), then the digest and the image's full name. With --all-tags, every tag of the repository (the registry's tag list), one after another.

Exit codes: 0, or 1 (no such image or tag, unauthorized, unreachable registry, a layer that fails verification).`;

  static override examples = [
    '<%= config.bin %> pull busybox',
    '<%= config.bin %> pull 127.0.0.1:5000/team/app:v1',
    '<%= config.bin %> pull --platform linux/arm64 127.0.0.1:5000/team/app',
    '<%= config.bin %> pull -q registry.example.com/app@sha256:0123…',
    '<%= config.bin %> pull --all-tags 127.0.0.1:5000/team/app',
  ];

  static override flags = {
    'all-tags': Flags.boolean({ char: 'a', summary: 'Download every tagged image of the repository.' }),
    platform: Flags.string({ summary: 'Pull this platform of a multi-platform image (os/arch[/variant]).' }),
    quiet: Flags.boolean({ char: 'q', summary: 'Suppress verbose output (print only the image name).' }),
  };

  static override args = {
    name: Args.string({ ignoreStdin: true, required: true, description: 'NAME[:TAG|@DIGEST]' }),
  };

  async run(): Promise<void> {
    const { flags, args } = await this.parse(Pull);
    if (flags['all-tags']) {
      if (args.name.includes('@') || args.name.slice(args.name.lastIndexOf('/') + 1).includes(':')) {
        throw new CliError('tag can\'t be used with --all-tags/-a');
      }
      const name = await pullImage(this.client, args.name, { ...(flags.platform ? { platform: flags.platform } : {}), quiet: flags.quiet, allTags: true });
      this.out(fullyQualified(name));
      return;
    }
    if (!flags.quiet && !args.name.includes(':') && !args.name.includes('@')) this.out('Using default tag: latest');
    const ref = await pullImage(this.client, args.name, { ...(flags.platform ? { platform: flags.platform } : {}), quiet: flags.quiet });
    this.out(fullyQualified(ref));
  }
}
