import { Flags } from '@oclif/core';
import type { VersionResponse } from '../lib/api-types.js';
import { BaseCommand } from '../lib/base-command.js';
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
export default class Version extends BaseCommand {
  static override summary = 'Show the mini-docker client and daemon versions.';

  static override description = 'Prints the client block, then asks the daemon (GET /version) for the server block. Use --version for the CLI version alone (no daemon needed).';

  static override examples = ['<%= config.bin %> version', "<%= config.bin %> version -f '{{.Server.Version}}'", '<%= config.bin %> version --json'];

  static override enableJsonFlag = true;

  static override flags = {
    format: Flags.string({ char: 'f', summary: 'Format the output with a Go-like template ({{.Client.Version}}, {{json .}}).' }),
  };

  async run(): Promise<VersionReport> {
    const { flags } = await this.parse(Version);
    const client = { Version: this.config.version, ApiVersion: '1.50', NodeVersion: process.version, Os: process.platform, Arch: dockerArch(process.arch) };
    if (!flags.format && !this.jsonEnabled()) {
      this.out(['Client:', ` Version:           ${client.Version}`, ` API version:       ${client.ApiVersion}`, ` Node version:      ${client.NodeVersion}`, ` OS/Arch:           ${client.Os}/${client.Arch}`, ''].join('\n'));
    }
    const server = await this.client.json<VersionResponse>('GET', '/version');
    const report: VersionReport = { Client: client, Server: server };
    if (flags.format) {
      this.out(renderTemplate(flags.format, report));
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
    this.out(lines.join('\n'));
    return report;
  }
}
