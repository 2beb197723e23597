/** CPU and memory-node lists in the kernel's list format: "0-3,6,8-9". */

const LIST = /^\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*$/;

/** The members of a list such as "0-2,5" → [0, 1, 2, 5] (sorted, unique); null when the syntax is wrong. */
export function listMembers(list: string): number[] | null {
  const text = list.trim();
  if (text === '') return [];
  if (!LIST.test(text)) return null;
  const members = new Set<number>();
  for (const part of text.split(',')) {
    const [from, to = from] = part.split('-').map(Number) as [number, number?];
    if (to < from || to - from > 65536) return null;
    for (let n = from; n <= to; n++) members.add(n);
  }
  return [...members].sort((a, b) => a - b);
}

/** The members of `requested` that are not in `available` (both in list format). */
export function missingMembers(requested: string, available: string): number[] {
  const have = new Set(listMembers(available) ?? []);
  return (listMembers(requested) ?? []).filter((n) => !have.has(n));
}
