import { injectable, LogReadNotSupportedError } from '../../core/plugin-api.js';
import type { DriverStatus, LogDriver, LogEntry, LogReadOptions, LogWriter } from '../../core/plugin-api.js';

/**
 * `--log-driver none`: keeps nothing. Writes are accepted and dropped (the offset still moves, so
 * the shim is acknowledged and never holds output back); `read` throws LogReadNotSupportedError
 * at once, before any iteration, so `logs` answers Docker's 501 "configured logging driver does
 * not support reading". It holds nothing, so `remove` and `held` have nothing to do.
 */
@injectable()
export class NoneLogDriver implements LogDriver {
  readonly id = 'log.v1.none';
  readonly name = 'none';

  async init(): Promise<DriverStatus> {
    return { status: 'ok' };
  }

  validateOptions(options: Readonly<Record<string, string>>): void {
    const key = Object.keys(options)[0];
    if (key !== undefined) throw new Error(`unknown log-opt "${key}" for log driver none (it takes no options)`);
  }

  async open(_containerId: string, options: Readonly<Record<string, string>>): Promise<LogWriter> {
    this.validateOptions(options);
    let offset = 0;
    return {
      get storedOffset() {
        return offset;
      },
      write: async (_entry: LogEntry, endOffset: number) => {
        offset = Math.max(offset, endOffset);
      },
      close: async () => undefined,
    };
  }

  read(_containerId: string, _options: LogReadOptions): AsyncIterable<LogEntry> {
    throw new LogReadNotSupportedError();
  }

  async remove(_containerId: string): Promise<void> {}

  async held(): Promise<readonly string[]> {
    return [];
  }
}
