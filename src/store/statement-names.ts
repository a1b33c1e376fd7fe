// Which SQL statements run as named (prepared) statements, and under which name. Kysely's
// SQL text is stable per query shape, so the text is the key: the database parses and
// plans each shape once per connection instead of on every call. Bounded: past
// MAX_PREPARED shapes (e.g. `in (…)` lists of many lengths) new shapes run unnamed, so a
// connection never accumulates statements without limit. DDL is never prepared (a cached
// plan must not outlive a schema change).
export const MAX_PREPARED = 2_000;

const names = new Map<string, string>();
const DDL = /^\s*(create|alter|drop|do|comment|grant|revoke|truncate|lock|analyze|vacuum|set|reset)\b/i;

/** The statement's name, or undefined when it should run unnamed. Names are the same in every connection. */
export function statementName(text: string): string | undefined {
  let name = names.get(text);
  if (name === undefined && names.size < MAX_PREPARED && !DDL.test(text)) {
    name = `s${names.size + 1}`;
    names.set(text, name);
  }
  return name;
}
