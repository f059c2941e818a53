/** How deeply `data` may nest; far beyond any real event, far below what breaks serializing. */
export const MAX_DATA_DEPTH = 32;

/**
 * Tells whether a parsed JSON value nests deeper than `limit` arrays and objects. Walks with
 * an explicit stack: recursion is exactly what a hostile payload would use to overflow ours.
 */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];

  while (stack.length > 0) {
    const { value: current, depth } = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth >= limit) return true;

    for (const child of Object.values(current)) stack.push({ value: child, depth: depth + 1 });
  }

  return false;
}
