// Site search speed (issue 4): the GIN index over sites.search_tsv stops using its
// "pending list". With fastupdate on (the default) new entries pile up unsorted (up to
// gin_pending_list_limit, 4 MB) until a VACUUM, and every search scans that whole list
// linearly: with 100,000 sites it was tens of thousands of entries per query. Inserting a
// site now updates the index directly (a dozen words, cheap); the list left by earlier
// inserts is merged here. gin_clean_pending_list runs inside a transaction, unlike VACUUM.
export const name = '006_site_search_speed';
export const up = /* sql */ `
ALTER INDEX sites_search SET (fastupdate = off);
SELECT gin_clean_pending_list('sites_search'::regclass);
`;
