import { arg, defineCommand, flag } from '../lib/command-declaration.js';
import { printInspected } from '../lib/inspect-output.js';
import type { DaemonClient } from '../lib/daemon-client.js';
import { containerPath, imagePath, networkPath } from '../lib/container-ops.js';
import { isNotFound } from '../lib/errors.js';

/** `mini-docker inspect`: low-level JSON of containers, images, volumes or networks. */
export default defineCommand({
  summary: 'Return low-level information on containers, images, volumes or networks.',

  description: `Looks each NAME up as a container, then as an image, then as a volume, then as a network (like docker), and prints a JSON array. With -f, prints a Go-like template per object instead, e.g. '{{.State.Running}}' or '{{json .Config}}'.

Exit codes: 0, or 1 when any NAME was not found (the others are still printed).`,

  examples: [
    '<%= config.bin %> inspect web',
    "<%= config.bin %> inspect -f '{{.State.Running}}' web",
    "<%= config.bin %> inspect -f '{{.State.ExitCode}} {{.State.FinishedAt}}' 3f2a",
    '<%= config.bin %> inspect --type image busybox',
  ],

  json: true,

  variadic: true,

  flags: {
    format: flag.string({ char: 'f', summary: 'Format the output using a Go-like template.' }),
    type: flag.string({ summary: 'Only look for this type of object.', options: ['container', 'image', 'volume', 'network'] }),
    size: flag.boolean({ char: 's', summary: 'Display total file sizes (containers).' }),
  },

  args: {
    name: arg({ required: true, description: 'Container, image, volume or network names or ids.' }),
  },

  async run(ctx, { flags, argv }) {
    const names = argv.map(String);
    const found: unknown[] = [];
    const missing: string[] = [];
    for (const name of names) {
      const object = await lookup(ctx.client, name, flags.type, flags.size);
      if (object === undefined) {
        const what = flags.type ?? 'object';
        missing.push(`No such ${what}: ${name}`);
      } else {
        found.push(object);
      }
    }
    return printInspected(ctx, found, missing, flags.format);
  },
});

/** A container, else an image, else a volume, else a network, by name or id; undefined when none is found. */
async function lookup(client: DaemonClient, name: string, type: string | undefined, size: boolean): Promise<unknown> {
  if (type === undefined || type === 'container') {
    try {
      return await client.json<unknown>('GET', containerPath(name, '/json'), { query: { size: size || undefined } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  if (type === undefined || type === 'image') {
    try {
      return await client.json<unknown>('GET', imagePath(name, '/json'));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  if (type === undefined || type === 'volume') {
    try {
      return await client.json<unknown>('GET', `/volumes/${encodeURIComponent(name)}`);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  if (type === undefined || type === 'network') {
    try {
      return await client.json<unknown>('GET', networkPath(name));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  return undefined;
}
