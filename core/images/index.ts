/** Images: the content-addressed blob store, image configs and ids, references, the busybox image. */
export { ContentStore, type ImportOptions, type LayerBlob } from './content-store.js';
export {
  DIGEST_PATTERN,
  canonicalJson,
  digestHex,
  imageConfigBytes,
  imageIdFor,
  importedImageDocument,
  ociArchitecture,
  sha256Digest,
  type ImageConfigDocument,
} from './image-config.js';
export { InvalidReferenceError, looksLikeTarPath, parseReference, type ImageReference } from './image-reference.js';
export {
  BUSYBOX_IMAGE_CONFIG,
  BUSYBOX_IMAGE_CREATED,
  BUSYBOX_IMAGE_MTIME,
  HOST_BUSYBOX,
  buildBusyboxRootfsTar,
  busyboxImageDocument,
  type BusyboxOptions,
} from './busybox-rootfs.js';
