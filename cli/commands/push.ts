import { Args, Flags } from '@oclif/core';
import type { ProgressMessage } from '../lib/api-types.js';
import { BaseCommand } from '../lib/base-command.js';
import { jsonLines } from '../lib/daemon-client.js';
import { splitRepoTag } from '../lib/image-ref.js';
import { registryAuthHeader, registryOfName } from '../lib/registry-config.js';
import { TransferProgress } from '../lib/transfer-progress.js';

/** `mini-docker push`: an image to a registry. */
export default class Push extends BaseCommand {
  static override summary = 'Upload an image to a registry.';

  static override description = `NAME[:TAG] must be a tag of a local image (mini-docker tag IMAGE HOST:PORT/REPO:TAG); without a tag, every tag of the repository is pushed. Layers are gzip-compressed on the way (the store keeps them uncompressed); blobs the registry has are skipped, blobs of another repository of the same registry are mounted. Prints "TAG: digest: sha256:… size: N" as Docker does. Credentials come from the docker CLI's config.json (mini-docker login).

Exit codes: 0, or 1 (no such local tag, unauthorized, unreachable registry).`;

  static override examples = ['<%= config.bin %> tag busybox 127.0.0.1:5000/tools/busybox:1', '<%= config.bin %> push 127.0.0.1:5000/tools/busybox:1'];

  static override flags = {
    quiet: Flags.boolean({ char: 'q', summary: 'Suppress verbose output.' }),
  };

  static override args = {
    name: Args.string({ ignoreStdin: true, required: true, description: 'NAME[:TAG]' }),
  };

  async run(): Promise<void> {
    const { flags, args } = await this.parse(Push);
    const { repo, tag } = splitRepoTag(args.name);
    if (!flags.quiet && tag === undefined) this.out('Using default tag: latest');
    const auth = await registryAuthHeader(registryOfName(repo));
    const res = await this.client.request('POST', `/images/${encodeURIComponent(repo)}/push`, {
      query: { tag: tag ?? 'latest' },
      ...(auth ? { headers: { 'X-Registry-Auth': auth } } : {}),
    });
    const progress = new TransferProgress(process.stdout, flags.quiet);
    for await (const msg of jsonLines<ProgressMessage>(res)) progress.handle(msg);
  }
}
