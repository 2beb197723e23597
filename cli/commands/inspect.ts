import { arg, defineCommand, flag } from '../lib/command-declaration.js';
import { printInspected } from '../lib/inspect-output.js';
import type { DaemonClient } from '../lib/daemon-client.js';
import { containerPath, imagePath, networkPath } from '../lib/container-ops.js';
import { CliError, isNotFound } from '../lib/errors.js';

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
    const missing: Error[] = [];
    for (const name of names) {
      const result = await lookup(ctx.client, name, flags.type, flags.size);
      if ('object' in result) found.push(result.object);
      else missing.push(result.missing);
    }
    return printInspected(ctx, found, missing, flags.format);
  },
});

/** Where each type of object is read, in the order docker looks a bare NAME up. */
const TYPES = [
  ['container', (name: string) => containerPath(name, '/json')],
  ['image', (name: string) => imagePath(name, '/json')],
  ['volume', (name: string) => `/volumes/${encodeURIComponent(name)}`],
  ['network', (name: string) => networkPath(name)],
] as const;

/**
 * A container, else an image, else a volume, else a network, by name or id. None found: with
 * --type, the daemon's answer (docker prints it as such); without, docker's own "No such object".
 */
async function lookup(client: DaemonClient, name: string, type: string | undefined, size: boolean): Promise<{ object: unknown } | { missing: Error }> {
  let notFound: Error = new CliError(`No such object: ${name}`);
  for (const [kind, path] of TYPES) {
    if (type !== undefined && type !== kind) continue;
    try {
      return { object: await client.json<unknown>('GET', path(name), { query: { size: kind === 'container' && size ? true : undefined } }) };
    } catch (err) {
      if (!isNotFound(err)) throw err;
      if (type !== undefined) notFound = err;
    }
  }
  return { missing: notFound };
}
