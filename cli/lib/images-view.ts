import type { ImageSummary } from './api-types.js';
import { humanSize, shortId, timeAgo } from './human.js';
import type { Column } from './list-format.js';
import { renderList } from './list-format.js';
import { splitRepoTag } from './image-ref.js';

/** docker images' columns. */
export const IMAGE_COLUMNS: readonly Column[] = [
  { header: 'REPOSITORY', field: 'Repository' },
  { header: 'TAG', field: 'Tag' },
  { header: 'IMAGE ID', field: 'ID' },
  { header: 'CREATED', field: 'CreatedSince' },
  { header: 'SIZE', field: 'Size' },
];

/** With --digests: DIGEST after TAG. */
export const IMAGE_COLUMNS_DIGESTS: readonly Column[] = [...IMAGE_COLUMNS.slice(0, 2), { header: 'DIGEST', field: 'Digest' }, ...IMAGE_COLUMNS.slice(2)];

export interface ImagesOptions {
  readonly quiet?: boolean;
  readonly digests?: boolean;
  readonly noTrunc?: boolean;
  readonly format?: string;
  readonly now: number;
}

/** One row per tag (or one `<none>` row), newest image first, with docker's field names. */
export function imageContexts(images: readonly ImageSummary[], options: Pick<ImagesOptions, 'noTrunc' | 'now'>): Record<string, string>[] {
  const sorted = [...images].sort((a, b) => b.Created - a.Created);
  return sorted.flatMap((img) => {
    const tags = img.RepoTags && img.RepoTags.length > 0 ? img.RepoTags : ['<none>:<none>'];
    return tags.map((t) => {
      const { repo, tag } = splitRepoTag(t);
      const digest = (img.RepoDigests ?? []).find((d) => d.slice(0, d.lastIndexOf('@')) === repo);
      return {
        Repository: repo,
        Tag: tag ?? '<none>',
        Digest: digest ? digest.slice(digest.lastIndexOf('@') + 1) : '<none>',
        ID: options.noTrunc ? img.Id : shortId(img.Id),
        CreatedSince: timeAgo(img.Created * 1000, options.now),
        CreatedAt: new Date(img.Created * 1000).toISOString(),
        Size: humanSize(img.Size),
      };
    });
  });
}

/** The whole images output: ids only (-q, each image once), the table, json lines or a template. */
export function renderImages(images: readonly ImageSummary[], options: ImagesOptions): string {
  const contexts = imageContexts(images, options);
  if (options.quiet) return [...new Set(contexts.map((c) => c.ID))].map((id) => `${id}\n`).join('');
  return renderList(contexts, options.digests ? IMAGE_COLUMNS_DIGESTS : IMAGE_COLUMNS, options.format);
}
