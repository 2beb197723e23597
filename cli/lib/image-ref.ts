/** A `REPO[:TAG]` split like docker: the tag is after the last colon that follows the last slash. */
export function splitRepoTag(ref: string): { repo: string; tag: string | undefined } {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash && colon !== -1) return { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repo: ref, tag: undefined };
}

/** A REPO[:TAG] given to tag or commit: an empty tag ("repo:") is refused as the docker CLI does. */
export function targetRepoTag(ref: string): { repo: string; tag: string | undefined } {
  const split = splitRepoTag(ref);
  if (split.tag === '' || split.repo === '') throw new Error(`"${ref}" is not a valid repository/tag: invalid reference format`);
  return split;
}
