import type { InfoResponse, PluginStatus } from '../lib/api-types.js';
import { defineCommand, flag } from '../lib/command-declaration.js';
import { binarySize } from '../lib/human.js';
import { renderTemplate } from '../lib/template.js';

/** What `info` reports: the daemon's /info plus its plugin list. */
export interface InfoReport extends InfoResponse {
  readonly Plugins?: unknown;
  readonly TinyPlugins: readonly PluginStatus[];
}

/** `mini-docker info`: daemon-wide facts and the state of every driver plugin. */
export default defineCommand({
  summary: 'Show daemon-wide information and the status of its plugins.',

  description: 'Asks the daemon for GET /info and GET /tiny/plugins: container and image counts, storage and cgroup drivers, roots, and each driver plugin as ok, skipped (with the reason) or error.',

  examples: ['<%= config.bin %> info', "<%= config.bin %> info -f '{{.ServerVersion}}'", '<%= config.bin %> info --json'],

  json: true,

  flags: {
    format: flag.string({ char: 'f', summary: 'Format the output with a Go-like template ({{.Containers}}, {{json .}}).' }),
  },

  async run(ctx, { flags }) {
    const [info, plugins] = await Promise.all([
      ctx.client.json<InfoResponse>('GET', '/info'),
      ctx.client.json<readonly PluginStatus[]>('GET', '/tiny/plugins').catch(() => [] as readonly PluginStatus[]),
    ]);
    const report: InfoReport = { ...info, TinyPlugins: plugins };
    if (flags.format) {
      ctx.out(renderTemplate(flags.format, report));
      return report;
    }
    const field = (label: string, value: unknown): string | undefined => (value === undefined || value === null || value === '' ? undefined : ` ${label}: ${String(value)}`);
    const lines = [
      'Server:',
      field('Containers', info.Containers),
      field(' Running', info.ContainersRunning),
      field(' Paused', info.ContainersPaused),
      field(' Stopped', info.ContainersStopped),
      field('Images', info.Images),
      field('Server Version', info.ServerVersion),
      field('Storage Driver', info.tinyDocker?.storageDriver ?? info.Driver),
      field('Logging Driver', info.LoggingDriver),
      field('Cgroup Driver', info.CgroupDriver),
      field('Cgroup Version', info.CgroupVersion),
      plugins.length > 0 ? ' Plugins:' : undefined,
      ...plugins.map((p) => `  ${p.id}: ${p.status}${p.reason ? ` (${p.reason})` : ''}${p.package ? ` [${p.package}]` : ''}`),
      ...securityLines(info),
      field('Kernel Version', info.KernelVersion),
      field('Operating System', info.OperatingSystem),
      field('OSType', info.OSType),
      field('Architecture', info.Architecture),
      field('CPUs', info.NCPU),
      field('Total Memory', info.MemTotal === undefined ? undefined : binarySize(info.MemTotal)),
      field('Name', info.Name),
      field('ID', info.ID),
      field('Docker Root Dir', info.DockerRootDir),
      field('Exec Root', info.tinyDocker?.execRoot),
      field('Event Log Position', info.tinyDocker?.lastPosition),
    ];
    ctx.out(lines.filter((l): l is string => l !== undefined).join('\n'));
    return report;
  },
});

/** " Security Options:" as the docker CLI prints them (name=X,k=v → "  X" then "   K: v"), with the remapped ids. */
function securityLines(info: InfoResponse): string[] {
  const options = info.SecurityOptions ?? [];
  if (options.length === 0) return [];
  const lines = [' Security Options:'];
  for (const option of options) {
    const pairs = option.split(',').map((kv) => kv.split('=') as [string, string | undefined]);
    const name = pairs.find(([k]) => k === 'name')?.[1] ?? option;
    lines.push(`  ${name}`);
    for (const [k, v] of pairs) if (k !== 'name' && v !== undefined) lines.push(`   ${k.charAt(0).toUpperCase()}${k.slice(1)}: ${v}`);
    const remap = info.tinyDocker?.usernsRemap;
    if (name === 'userns' && remap) lines.push(`   Remapped to: ${remap.user}:${remap.group} (uid ${remap.uid}, gid ${remap.gid}, ${remap.size} ids)`);
  }
  return lines;
}
