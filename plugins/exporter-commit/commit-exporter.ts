import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { writeTar } from '../../core/plugin-api.js';
import { DriverKinds, injectable } from '../../core/plugin-api.js';
import type { DriverContext, DriverStatus, ExporterDriver, Logger } from '../../core/plugin-api.js';

/**
 * The commit exporter (`exporter.v1.commit`): archives out of containers.
 *
 * `exportDiff(storage.diff("3f2a…", layers), out)` writes the storage driver's diff stream (an
 * OCI layer tar: `.wh.<name>` for deletions, `.wh..wh..opq` for replaced folders) to `out` as the
 * layer of the commit, uncompressed, and counts its bytes. It never reads the storage driver's
 * folders, so it works with any storage driver.
 *
 * `exportTree(mergedView, out)` archives a whole filesystem as it is, with no whiteout
 * conversion: what `docker export` writes, and what `docker import` takes back.
 */
@injectable()
export class CommitExporter implements ExporterDriver {
  readonly id = `${DriverKinds.exporter}.commit`;
  private logger: Logger | null = null;

  async init(context: DriverContext): Promise<DriverStatus> {
    this.logger = context.logger;
    return { status: 'ok' };
  }

  async exportDiff(diff: Readable, out: NodeJS.WritableStream): Promise<number> {
    let size = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        done(null, chunk);
      },
    });
    await pipeline(diff, count, out);
    return size;
  }

  exportTree(rootPath: string, out: NodeJS.WritableStream): Promise<number> {
    return writeTar(rootPath, out, { onWarning: (message) => this.warn(`export of ${rootPath}: ${message}`) });
  }

  private warn(message: string): void {
    if (this.logger) this.logger.warn(message);
    else console.warn(message);
  }
}
