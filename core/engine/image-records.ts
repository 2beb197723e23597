import type { ImageCreated, ImageEvent } from '../../events/index.js';
import { imageStream } from '../../events/index.js';
import { ConcurrencyError } from '../eventlog/event-log.js';
import { decideCreateImage, decideTag, requireImage } from '../images/image-rules.js';
import type { LayerStore } from '../images/layer-store.js';
import type { ExporterDriver, StorageDriver } from '../plugins/driver.js';
import type { EngineState, ImageState } from '../state/engine-state.js';
import type { EventStore } from './event-store.js';

/**
 * Appends what the image rules (core/images/image-rules.ts) decide, each to the image's stream
 * with the version that was read: the one way images reach the log.
 */
export class ImageRecords {
  constructor(private readonly store: EventStore) {}

  state(): EngineState {
    return this.store.state();
  }

  /** Records a new image, unless the fold has it; an image removed earlier may come back. */
  async create(data: ImageCreated['data']): Promise<void> {
    const events = decideCreateImage(this.state(), data);
    if (events.length === 0) return;
    const stream = imageStream(data.id);
    try {
      await this.store.append(stream, events, this.store.log.streamVersion(stream));
    } catch (err) {
      // Two loads (or commits) of the same image at once: the other one recorded it.
      if (err instanceof ConcurrencyError && this.state().images[data.id]) return;
      throw err;
    }
  }

  async tag(id: string, repoTag: string): Promise<void> {
    const image = requireImage(this.state(), id);
    await this.append(image, decideTag(image, repoTag));
  }

  async append(image: ImageState, events: readonly ImageEvent[]): Promise<void> {
    if (events.length > 0) await this.store.append(imageStream(image.id), events, image.version);
  }
}

/** What the image commands share: the records, the layer store, and the drivers they need. */
export interface ImageParts {
  readonly records: ImageRecords;
  readonly layers: LayerStore;
  storage(): StorageDriver;
  exporter(): ExporterDriver;
}
