// Search text normalisation: case- and accent-insensitive ("Córdoba" finds "cordoba"),
// done in the app so every database behaves the same.
export function normalizeSearchText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{Diacritic}/gu, '')
    .toLowerCase()
    .replace(/[^\p{Letter}\p{Number}@.]+/gu, ' ')
    .trim();
}

/** Words of a query as a tsquery of prefixes: "12 main st" → "12:* & main:* & st:*". */
export function prefixQuery(query: string): string | null {
  const words = normalizeSearchText(query)
    .split(/\s+/)
    .map((w) => w.replace(/[^\p{Letter}\p{Number}]/gu, ''))
    .filter(Boolean)
    .slice(0, 12);
  return words.length ? words.map((w) => `${w}:*`).join(' & ') : null;
}
