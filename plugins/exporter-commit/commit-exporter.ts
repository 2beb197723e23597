import { execFile } from 'node:child_process';
import { writeTar } from '../../core/plugin-api.js';
import { DriverKinds, injectable } from '../../core/plugin-api.js';
import type { DriverContext, DriverStatus, ExporterDriver, Logger } from '../../core/plugin-api.js';

/** Whether `command --version` runs (the tool is installed). */
function runs(command: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(command, ['--version'], (error) => resolve(error === null || (error as NodeJS.ErrnoException).code !== 'ENOENT'));
  });
}

/**
 * The commit exporter (`exporter.v1.commit`): layer tars out of containers.
 *
 * `exportDiff("/var/lib/mini-docker/storage.v1.overlayfs/containers/3f2a…/upper", out)` archives
 * the container's overlay upper dir as an OCI layer: a file the container wrote is a plain entry,
 * a deleted lower file (overlayfs leaves a 0/0 character device) becomes an empty `.wh.<name>`
 * entry, and a folder that replaced a lower one (`trusted.overlay.opaque=y`) gets a
 * `<folder>/.wh..wh..opq` entry right after it. `trusted.overlay.*` attributes never leave.
 *
 * `exportTree(mergedView, out)` archives a whole filesystem as it is, with no whiteout
 * conversion: what `docker export` writes, and what `docker import` takes back.
 */
@injectable()
export class CommitExporter implements ExporterDriver {
  readonly id = `${DriverKinds.exporter}.commit`;
  private logger: Logger | null = null;

  async init(context: DriverContext): Promise<DriverStatus> {
    // Opaque folders are an xattr on the upper dir; without getfattr a commit would silently
    // show the lower folder's old content through the new one.
    if (!(await runs('getfattr'))) {
      return { status: 'skipped', reason: 'getfattr is not installed (apt-get install -y attr): opaque folders could not be committed' };
    }
    this.logger = context.logger;
    return { status: 'ok' };
  }

  exportDiff(diffPath: string, out: NodeJS.WritableStream): Promise<number> {
    return writeTar(diffPath, out, { whiteouts: 'oci', onWarning: (message) => this.warn(`commit of ${diffPath}: ${message}`) });
  }

  exportTree(rootPath: string, out: NodeJS.WritableStream): Promise<number> {
    return writeTar(rootPath, out, { whiteouts: 'none', onWarning: (message) => this.warn(`export of ${rootPath}: ${message}`) });
  }

  private warn(message: string): void {
    if (this.logger) this.logger.warn(message);
    else console.warn(message);
  }
}
