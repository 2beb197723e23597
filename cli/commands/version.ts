import type { VersionResponse } from '../lib/api-types.js';
import { defineCommand, flag } from '../lib/command-declaration.js';
import { renderTemplate } from '../lib/template.js';

/** What `version` reports. */
export interface VersionReport {
  readonly Client: { readonly Version: string; readonly ApiVersion: string; readonly NodeVersion: string; readonly Os: string; readonly Arch: string };
  readonly Server: VersionResponse;
}

function dockerArch(arch: string): string {
  return arch === 'x64' ? 'amd64' : arch === 'ia32' ? '386' : arch;
}

/** `mini-docker version`: client and server versions. */
export default defineCommand({
  summary: 'Show the mini-docker client and daemon versions.',

  description: 'Prints the client block, then asks the daemon (GET /version) for the server block. Use --version for the CLI version alone (no daemon needed).',

  examples: ['<%= config.bin %> version', "<%= config.bin %> version -f '{{.Server.Version}}'", '<%= config.bin %> version --json'],

  json: true,

  flags: {
    format: flag.string({ char: 'f', summary: 'Format the output with a Go-like template ({{.Client.Version}}, {{json .}}).' }),
  },

  async run(ctx, { flags }) {
    const client = { Version: ctx.version, ApiVersion: '1.50', NodeVersion: process.version, Os: process.platform, Arch: dockerArch(process.arch) };
    if (!flags.format && !ctx.jsonEnabled) {
      ctx.out(['Client:', ` Version:           ${client.Version}`, ` API version:       ${client.ApiVersion}`, ` Node version:      ${client.NodeVersion}`, ` OS/Arch:           ${client.Os}/${client.Arch}`, ''].join('\n'));
    }
    const server = await ctx.client.json<VersionResponse>('GET', '/version');
    const report: VersionReport = { Client: client, Server: server };
    if (flags.format) {
      ctx.out(renderTemplate(flags.format, report));
      return report;
    }
    const engine = server.Components?.find((c) => c.Name === 'Engine');
    const d = engine?.Details ?? {};
    const lines = [
      `Server: ${server.Platform?.Name ?? 'mini-docker'}`,
      ' Engine:',
      `  Version:          ${server.Version}`,
      `  API version:      ${server.ApiVersion}${server.MinAPIVersion ? ` (minimum version ${server.MinAPIVersion})` : ''}`,
      `  Runtime:          ${server.GoVersion || d.GoVersion || ''}`,
      `  Git commit:       ${server.GitCommit || d.GitCommit || ''}`,
      `  Built:            ${server.BuildTime || d.BuildTime || ''}`,
      `  OS/Arch:          ${server.Os}/${server.Arch}`,
      `  Kernel version:   ${server.KernelVersion ?? ''}`,
    ];
    ctx.out(lines.join('\n'));
    return report;
  },
});
