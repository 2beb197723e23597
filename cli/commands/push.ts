import type { ProgressMessage } from '../lib/api-types.js';
import { arg, defineCommand, flag } from '../lib/command-declaration.js';
import { jsonLines } from '../lib/daemon-client.js';
import { splitRepoTag } from '../lib/image-ref.js';
import { registryAuthHeader, registryOfName } from '../lib/registry-config.js';
import { TransferProgress } from '../lib/transfer-progress.js';

/** `mini-docker push`: an image to a registry. */
export default defineCommand({
  summary: 'Upload an image to a registry.',

  description: `NAME[:TAG] must be a tag of a local image (mini-docker tag IMAGE HOST:PORT/REPO:TAG); without a tag, every tag of the repository is pushed. Layers are sent gzip-compressed: a pulled layer as the bytes the pull fetched, a layer made here compressed once and the copy kept; blobs the registry has are skipped, blobs of another repository of the same registry are mounted. Prints "TAG: digest: sha256:… size: N" as Docker does. Credentials come from the docker CLI's config.json (mini-docker login).

Exit codes: 0, or 1 (no such local tag, unauthorized, unreachable registry).`,

  examples: ['<%= config.bin %> tag busybox 127.0.0.1:5000/tools/busybox:1', '<%= config.bin %> push 127.0.0.1:5000/tools/busybox:1'],

  flags: {
    quiet: flag.boolean({ char: 'q', summary: 'Suppress verbose output.' }),
  },

  args: {
    name: arg({ required: true, description: 'NAME[:TAG]' }),
  },

  async run(ctx, { flags, args }) {
    const { repo, tag } = splitRepoTag(args.name);
    if (!flags.quiet && tag === undefined) ctx.out('Using default tag: latest');
    const auth = await registryAuthHeader(registryOfName(repo));
    const res = await ctx.client.request('POST', `/images/${encodeURIComponent(repo)}/push`, {
      query: { tag: tag ?? 'latest' },
      ...(auth ? { headers: { 'X-Registry-Auth': auth } } : {}),
    });
    const progress = new TransferProgress(process.stdout, flags.quiet);
    for await (const msg of jsonLines<ProgressMessage>(res)) progress.handle(msg);
  },
});
