import { PassThrough, type Readable } from 'node:stream';
import { readTar } from './tar-reader.js';
import { TarWriter } from './tar-writer.js';

/** Docker's rebase of one entry name: the first `oldBase` at its start becomes `newBase` ("" for the root: nothing is replaced). */
export function rebaseName(name: string, oldBase: string, newBase: string): string {
  const from = oldBase === '/' ? '' : oldBase;
  if (from === '' || !(name === from || name.startsWith(`${from}/`))) return name;
  return newBase + name.slice(from.length);
}

/**
 * A tar whose entries named `oldBase` or `oldBase/...` are renamed to `newBase/...` (hardlink
 * targets too): docker cp's RebaseArchiveEntries, so that `cp c:/etc/hosts ./h` makes a file "h".
 * The copy is streamed; a malformed input ends the output with the error.
 */
export function rebaseTar(source: AsyncIterable<Uint8Array | string>, oldBase: string, newBase: string): Readable {
  const out = new PassThrough();
  const writer = new TarWriter(out);
  void (async () => {
    for await (const { header, body } of readTar(source)) {
      await writer.add({
        ...header,
        path: rebaseName(header.path, oldBase, newBase),
        linkname: header.type === 'hardlink' ? rebaseName(header.linkname, oldBase, newBase) : header.linkname,
      }, header.type === 'file' ? body : undefined);
    }
    await writer.finish();
    out.end();
  })().catch((error: unknown) => out.destroy(error instanceof Error ? error : new Error(String(error))));
  return out;
}
