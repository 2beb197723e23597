/** Tar archives: a streaming reader and writer, safe extraction, and tree archiving. */
export {
  BLOCK_SIZE,
  TarFormatError,
  type TarEntryType,
  type TarHeader,
  type TarHeaderInput,
} from './tar-header.js';
export { readTar, type ReadTarOptions, type TarEntry } from './tar-reader.js';
export { TarWriter, type TarWriterOptions } from './tar-writer.js';
export { extractTar, type ExtractOptions, type ExtractResult, type EntryInterceptor, type InterceptedEntry } from './extract-tar.js';
export { FsHelper, FsHelperError, FS_HELPER_BINARY, type SpecialFileKind } from './fs-helper.js';
export { writeTar, splitDevice, type WalkedEntry, type WriteTarOptions } from './write-tar.js';
export { resolveInRoot, cleanInRoot, type ResolveOptions } from './resolve-in-root.js';
export { readXattrTree, syncFilesystem, XATTR_READER_BINARY } from './xattrs.js';
