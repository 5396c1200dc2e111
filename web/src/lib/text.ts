// Text helpers: Vietnamese collation and diacritic-insensitive matching.

const collator = new Intl.Collator('vi', { sensitivity: 'base', numeric: true });

/** Compare two values for sorting: numbers numerically, everything else by Vietnamese collation;
 * empty values last. */
export function compareValues(a: unknown, b: unknown): number {
  const ea = a === null || a === undefined || a === '';
  const eb = b === null || b === undefined || b === '';
  if (ea || eb) return ea === eb ? 0 : ea ? 1 : -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return collator.compare(String(a), String(b));
}

/** Lower-case, strip diacritics, đ → d: "Phường Quy Nhơn" → "phuong quy nhon". */
export function fold(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D')
    .toLowerCase();
}

/** Whether every whitespace-separated word of `query` occurs in `haystack`, ignoring case and
 * diacritics. */
export function matchesQuery(haystack: string, query: string): boolean {
  const h = fold(haystack);
  return fold(query)
    .split(/\s+/)
    .filter(Boolean)
    .every((w) => h.includes(w));
}
