/** A `REPO[:TAG]` split like docker: the tag is after the last colon that follows the last slash. */
export function splitRepoTag(ref: string): { repo: string; tag: string | undefined } {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash && colon !== -1) return { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repo: ref, tag: undefined };
}
