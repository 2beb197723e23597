import { arg, defineCommand, flag } from '../../lib/command-declaration.js';
import { CliError } from '../../lib/errors.js';
import { keyValueFlags, type VolumeSummary } from '../../lib/volumes-view.js';

/** `mini-docker volume create`: a named (or randomly named) volume. */
export default defineCommand({
  summary: 'Create a volume.',

  description: `Creates a volume and prints its name (a random 64-hex name when none is given). A volume of that name that exists already (same driver) is kept and its name printed, as Docker does.

The local driver keeps each volume in a folder under the data root. With options, as Docker's local driver: --opt type=none --opt o=bind --opt device=/host/folder makes the volume that host folder; --opt type=tmpfs --opt device=tmpfs [--opt o=size=64m,uid=1000] a tmpfs, mounted while a container uses it and gone after its last user stops; --opt type=ext4 --opt device=/dev/BLOCK [--opt o=noatime] the file system on that block device, mounted likewise (also ext2, ext3, xfs, btrfs). nfs and cifs are refused, naming what to use instead.

Exit codes: 0, or 1 (a bad name or option, an unknown driver).`,

  examples: [
    '<%= config.bin %> volume create data',
    '<%= config.bin %> volume create --label team=db pgdata',
    '<%= config.bin %> volume create --opt type=none --opt o=bind --opt device=/srv/shared shared',
    '<%= config.bin %> volume create --driver local --opt type=tmpfs --opt device=tmpfs --opt o=size=64m,uid=1000 scratch',
  ],

  json: true,

  flags: {
    driver: flag.string({ char: 'd', summary: 'Volume driver name.', default: 'local' }),
    label: flag.string({ summary: 'Set metadata KEY=value on the volume; repeatable.', multiple: true }),
    opt: flag.string({ char: 'o', summary: 'Driver option KEY=value (local: type, o, device); repeatable.', multiple: true }),
  },

  args: {
    name: arg({ description: 'Volume name.' }),
  },

  async run(ctx, { flags, args }) {
    let labels: Record<string, string>;
    let options: Record<string, string>;
    try {
      labels = keyValueFlags(flags.label, 'label');
      options = keyValueFlags(flags.opt, 'option');
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    const volume = await ctx.client.json<VolumeSummary>('POST', '/volumes/create', { json: { Name: args.name ?? '', Driver: flags.driver ?? 'local', DriverOpts: options, Labels: labels } });
    ctx.out(volume.Name);
    return volume;
  },
});
