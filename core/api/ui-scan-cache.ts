import type { EventEnvelope } from '../../events/index.js';
import type { HistorySource } from './ui-history.js';

interface Entry<A> {
  /** The last position folded into `acc`. */
  position: number;
  readonly acc: A;
}

/** How one kind of answer is folded from the log. */
export interface ScanFold<A, R> {
  /** A new accumulator, before the first event. */
  fresh(): A;
  /** Folds one more event into it. */
  visit(acc: A, e: EventEnvelope): void;
  /** The answer, copied out (the accumulator goes on changing). */
  read(acc: A): R;
}

/**
 * Folds the log into an accumulator per key and remembers how far it got, so the next request for
 * a later position reads only the events appended since. A page that follows the daemon asks again
 * after every event: without this, each ask would read the whole log. The log is append-only, so
 * what was folded stays true. Asks for a position before the remembered one are folded afresh and
 * not remembered. Requests of one key run one after the other; the least recently used keys are
 * forgotten beyond `maxEntries`.
 */
export class ScanCache {
  private readonly entries = new Map<string, Entry<unknown>>();
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly source: HistorySource, private readonly maxEntries = 32) {}

  run<A, R>(key: string, until: number, fold: ScanFold<A, R>): Promise<R> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.fold(key, until, fold));
    this.queues.set(key, next);
    void next.finally(() => {
      if (this.queues.get(key) === next) this.queues.delete(key);
    }).catch(() => undefined);
    return next;
  }

  private async fold<A, R>(key: string, until: number, fold: ScanFold<A, R>): Promise<R> {
    const known = this.entries.get(key) as Entry<A> | undefined;
    if (known && known.position <= until) {
      this.entries.delete(key);
      this.entries.set(key, known);
      await this.source.scan(known.position, until, (e) => fold.visit(known.acc, e));
      known.position = until;
      return fold.read(known.acc);
    }
    const entry: Entry<A> = { position: until, acc: fold.fresh() };
    await this.source.scan(0, until, (e) => fold.visit(entry.acc, e));
    if (!known) {
      this.entries.set(key, entry);
      if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    }
    return fold.read(entry.acc);
  }
}
