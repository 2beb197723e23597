import { readFile } from 'node:fs/promises';
import { Command, Flags } from '@oclif/core';

/** `mini-docker audit`: prints the audit file the plugin's driver writes. */
export default class Audit extends Command {
  static summary = 'Print the audit trail written by the example audit plugin';
  static description = 'Reads the file the reactor.v1.audit driver appends every engine event to (AUDIT_FILE, or <data-root>/reactor.v1.audit/audit.log).';
  static examples = ['<%= config.bin %> audit --file /var/lib/mini-docker/reactor.v1.audit/audit.log'];
  static flags = {
    file: Flags.string({ description: 'audit file to read', env: 'AUDIT_FILE', default: '/var/lib/mini-docker/reactor.v1.audit/audit.log' }),
  };

  async run() {
    const { flags } = await this.parse(Audit);
    this.log((await readFile(flags.file, 'utf8')).trimEnd());
  }
}
