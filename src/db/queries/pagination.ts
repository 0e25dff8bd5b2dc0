/**
 * Keyset pagination over ULID-based ids (they sort by creation): the cursor is the last id of a
 * page, never an OFFSET. Callers fetch `limit + 1` rows to learn whether another page exists.
 */
export function page<T extends { id: string }>(
  rows: T[],
  limit: number,
): { data: T[]; nextCursor: string | null } {
  const data = rows.slice(0, limit);
  return { data, nextCursor: rows.length > limit ? data[data.length - 1].id : null };
}
