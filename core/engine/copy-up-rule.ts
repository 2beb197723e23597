/**
 * Whether a volume with these driver options is filled from the image at its first mount (the
 * copy-up, docs/volumes.md). Not one backed by a device (`--opt device=…`: a host folder bound
 * with type=none,o=bind, a block device, a named tmpfs) nor one its driver mounts only while a
 * container runs (a tmpfs): such a volume's data is not the daemon's, and a copy-up cut by a crash
 * is undone by emptying the volume, which there would delete the user's files.
 */
export function fillsFromImage(options: Readonly<Record<string, string>>, mountsOnDemand: boolean): boolean {
  return !mountsOnDemand && options.device === undefined;
}
