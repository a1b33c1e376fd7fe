// Which SQL statements run as named (prepared) statements, and under which name. Kysely's
// SQL text is stable per query shape, so the text is the key: the database parses and
// plans each shape once per connection instead of on every call. Bounded: past
// MAX_PREPARED shapes (e.g. `in (…)` lists of many lengths) new shapes run unnamed, so a
// connection never accumulates statements without limit. DDL is never prepared (a cached
// plan must not outlive a schema change).
//
// Found by length, then compared: each call's text is a new string (Kysely builds it piece
// by piece), and a Map keyed by the text would hash all of it every time — measured, ~14 µs
// for a 4 KB statement against ~4.6 µs for length and comparison, 1.5–1.8 % of the server's
// CPU in the booking flows. Texts of one length are few; a comparison stops at the first
// character that differs.
export const MAX_PREPARED = 2_000;

const byLength = new Map<number, { text: string; name: string }[]>();
let count = 0;
const DDL = /^\s*(create|alter|drop|do|comment|grant|revoke|truncate|lock|analyze|vacuum|set|reset)\b/i;

/** The statement's name, or undefined when it should run unnamed. Names are the same in every connection. */
export function statementName(text: string): string | undefined {
  const known = byLength.get(text.length);
  if (known) {
    for (const entry of known) if (entry.text === text) return entry.name;
  }
  if (count >= MAX_PREPARED || DDL.test(text)) return undefined;
  count++;
  const name = `s${count}`;
  if (known) known.push({ text, name });
  else byLength.set(text.length, [{ text, name }]);
  return name;
}
