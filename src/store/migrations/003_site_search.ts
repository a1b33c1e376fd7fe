// Site search: a normalised text (lower case, accents stripped — done in the app so it
// works the same on PGlite and PostgreSQL without extensions) and a full-text index over
// it for fast, ranked word-prefix search across address and customer.
export const name = '003_site_search';
export const up = /* sql */ `
ALTER TABLE sites ADD COLUMN search_text text NOT NULL DEFAULT '';
ALTER TABLE sites ADD COLUMN search_tsv tsvector NOT NULL DEFAULT ''::tsvector;
CREATE INDEX sites_search ON sites USING gin (search_tsv);
CREATE INDEX sites_active ON sites (id) WHERE archived_at IS NULL;
`;
