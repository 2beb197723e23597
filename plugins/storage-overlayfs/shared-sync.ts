/**
 * One filesystem's syncfs(2) (`syncFilesystem`: asked of a long-lived helper, or `sync -f PATH`),
 * shared between callers: a caller is covered by any sync that starts after its own writes ended,
 * so layers unpacked at the same time wait on one sync instead of each starting its own. A call
 * made while a sync runs waits for the next one, which starts when the running one ends and
 * serves every call made meanwhile.
 */
export class SharedSync {
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;

  /** `syncfs` runs the sync (e.g. `syncFilesystem(dir)`). */
  constructor(private readonly syncfs: () => Promise<void>) {}

  /** Resolves once a sync that started after this call has ended; rejects with its error. */
  sync(): Promise<void> {
    if (this.queued !== null) return this.queued;
    if (this.running === null) return this.start();
    const next = this.running.catch(() => undefined).then(() => {
      this.queued = null;
      return this.start();
    });
    this.queued = next;
    return next;
  }

  private start(): Promise<void> {
    const started: Promise<void> = this.syncfs().finally(() => {
      if (this.running === started) this.running = null;
    });
    this.running = started;
    return started;
  }
}
