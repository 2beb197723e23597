/** `GET /images/json` selection by filters, like moby (pure). */
import type { ImageState } from '../state/engine-state.js';
import { familiarRef } from './image-presenters.js';
import { checkFilterKeys, type Filters } from './http-params.js';

export const IMAGE_FILTER_KEYS = ['reference', 'dangling', 'label', 'before', 'since', 'until'] as const;

/** A glob like path.Match: `*` within a path segment, `?` one character. */
function globToRegExp(glob: string): RegExp {
  const source = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${source}$`);
}

function tagMatches(ref: string, pattern: string): boolean {
  const re = globToRegExp(familiarRef(pattern));
  const tag = familiarRef(ref);
  const repo = tag.replace(/:[^:/]+$/, '');
  return re.test(tag) || re.test(repo);
}

function referenceMatches(img: ImageState, pattern: string): boolean {
  return img.tags.some((t) => tagMatches(t, pattern));
}

/**
 * The tags of an image a listing shows: with a `reference` filter only those that match it, as
 * moby lists them (`docker images busybox` shows busybox's rows, not the other names of the same image).
 */
export function shownTags(img: ImageState, filters: Filters): readonly string[] {
  const patterns = filters.get('reference');
  if (patterns === undefined || patterns.length === 0) return img.tags;
  return img.tags.filter((t) => patterns.some((p) => tagMatches(t, p)));
}

/** Newest first, like moby. */
export function selectImages(images: readonly ImageState[], filters: Filters, byRef: (ref: string) => ImageState | undefined): ImageState[] {
  checkFilterKeys(filters, IMAGE_FILTER_KEYS);
  const test = (key: string, pred: (value: string) => boolean): boolean => {
    const values = filters.get(key);
    return values === undefined || values.length === 0 || values.some(pred);
  };
  const created = (img: ImageState | undefined): number => (img ? Date.parse(img.created) : Number.NaN);
  return [...images]
    .sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : a.id.localeCompare(b.id)))
    .filter((img) => {
      const labels = img.config.Labels ?? {};
      return (
        test('reference', (v) => referenceMatches(img, v)) &&
        test('dangling', (v) => (v === 'true' || v === '1') === (img.tags.length === 0)) &&
        // every label filter must match (moby's MatchKVList)
        (filters.get('label') ?? []).every((v) => {
          const eq = v.indexOf('=');
          return eq < 0 ? v in labels : labels[v.slice(0, eq)] === v.slice(eq + 1);
        }) &&
        test('before', (v) => created(img) < created(byRef(v))) &&
        test('since', (v) => created(img) > created(byRef(v))) &&
        test('until', (v) => {
          const t = /^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : Date.parse(v);
          return created(img) <= t;
        })
      );
    });
}
