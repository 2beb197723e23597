/** The log file is damaged somewhere other than a torn tail: opening or reading it must stop, naming where. */
export class LogCorruptionError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`event log ${file} is corrupt at byte ${offset}: ${reason}`);
    this.name = 'LogCorruptionError';
  }
}
