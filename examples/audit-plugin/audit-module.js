// An example third-party driver, written the way any plugin author would: plain JavaScript, no
// build step, importing only the public plugin API. The daemon resolves 'tiny-docker' to itself.
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ContainerModule, Driver, DriverKinds, injectable } from 'tiny-docker/plugin-api';

/** Appends one JSON line per engine event to an audit file: a reactor, no part in the start order. */
class AuditDriver {
  id = `${DriverKinds.reactor}.audit`;
  file = '';

  async init(context) {
    this.file = process.env.AUDIT_FILE || join(context.stateDir, 'audit.log');
    context.logger.info(`auditing every event to ${this.file}`);
    return { status: 'ok' };
  }

  async onEvent(event) {
    const line = { position: event.position, time: event.time, type: event.type, stream: event.streamId };
    await appendFile(this.file, `${JSON.stringify(line)}\n`);
  }
}
injectable()(AuditDriver);

export default new ContainerModule((options) => {
  options.bind(Driver).to(AuditDriver).inSingletonScope();
});
