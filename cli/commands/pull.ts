import { arg, defineCommand, flag } from '../lib/command-declaration.js';
import { CliError } from '../lib/errors.js';
import { fullyQualified, pullImage } from '../lib/pull-image.js';

/** `mini-docker pull`: an image from a registry. */
export default defineCommand({
  summary: 'Download an image from a registry.',

  description: `NAME is read as Docker reads it: busybox is docker.io/library/busybox:latest, HOST:PORT/REPO:TAG names another registry, NAME@sha256:… a digest. A multi-platform image resolves to this host's platform, or to --platform. Credentials come from the docker CLI's config.json (mini-docker login). Shows a line per layer (with a bar on a terminal), then the digest and the image's full name. With --all-tags, every tag of the repository (the registry's tag list), one after another.

Exit codes: 0, or 1 (no such image or tag, unauthorized, unreachable registry, a layer that fails verification).`,

  examples: [
    '<%= config.bin %> pull busybox',
    '<%= config.bin %> pull 127.0.0.1:5000/team/app:v1',
    '<%= config.bin %> pull --platform linux/arm64 127.0.0.1:5000/team/app',
    '<%= config.bin %> pull -q registry.example.com/app@sha256:0123…',
    '<%= config.bin %> pull --all-tags 127.0.0.1:5000/team/app',
  ],

  flags: {
    'all-tags': flag.boolean({ char: 'a', summary: 'Download every tagged image of the repository.' }),
    platform: flag.string({ summary: 'Pull this platform of a multi-platform image (os/arch[/variant]).' }),
    quiet: flag.boolean({ char: 'q', summary: 'Suppress verbose output (print only the image name).' }),
  },

  args: {
    name: arg({ required: true, description: 'NAME[:TAG|@DIGEST]' }),
  },

  async run(ctx, { flags, args }) {
    const platform = flags.platform ? { platform: flags.platform } : {};
    if (flags['all-tags']) {
      if (args.name.includes('@') || args.name.slice(args.name.lastIndexOf('/') + 1).includes(':')) {
        throw new CliError('tag can\'t be used with --all-tags/-a');
      }
      ctx.out(fullyQualified(await pullImage(ctx.client, args.name, { ...platform, quiet: flags.quiet, allTags: true })));
      return;
    }
    if (!flags.quiet && !args.name.includes(':') && !args.name.includes('@')) ctx.out('Using default tag: latest');
    const ref = await pullImage(ctx.client, args.name, { ...platform, quiet: flags.quiet });
    ctx.out(fullyQualified(ref));
  },
});
