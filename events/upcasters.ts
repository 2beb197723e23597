import { SCHEMA_VERSIONS, isEventType } from './catalogue.js';
import type { EventEnvelope } from './envelope.js';

/** A stored record as it comes off disk, before it is known to match the current catalogue. */
export interface RawEnvelope {
  readonly position: number;
  readonly streamId: string;
  readonly streamVersion: number;
  readonly time: string;
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: unknown;
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** Turns data of version `from` into version `from + 1`. */
type Upcaster = (data: Record<string, unknown>) => Record<string, unknown>;

/** Upcasters by event type and source version (version 1 is the first version of every type). */
const UPCASTERS: Readonly<Record<string, Readonly<Record<number, Upcaster>>>> = {
  // 2: exits carry the container's name; an exit recorded before did not know it.
  ContainerExited: { 1: (d) => ({ ...d, name: '' }) },
};

/** Brings a raw record up to the current schema version of its type. Validation happens after this. */
export function upcast(raw: RawEnvelope): EventEnvelope {
  let data = raw.data as Record<string, unknown>;
  let version = raw.schemaVersion;
  if (isEventType(raw.type)) {
    const target = SCHEMA_VERSIONS[raw.type];
    while (version < target) {
      const step = UPCASTERS[raw.type]?.[version];
      if (!step) break;
      data = step(data);
      version++;
    }
  }
  return { ...raw, data, schemaVersion: version, metadata: raw.metadata } as EventEnvelope;
}
