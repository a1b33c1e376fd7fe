// Ordered list of migrations; each runs once, in its own transaction, at start.
import * as m001 from './001_foundation.js';
import * as m002 from './002_orders.js';
import * as m003 from './003_site_search.js';
import * as m004 from './004_portal_auth.js';
import * as m005 from './005_ledger_write_path.js';
import * as m006 from './006_site_search_speed.js';
import * as m007 from './007_order_write_path.js';
import * as m008 from './008_ledger_atomic.js';
import * as m009 from './009_order_copies.js';
import * as m010 from './010_idempotency_answers.js';
import * as m011 from './011_payout_refunds.js';
import * as m012 from './012_fewer_index_writes.js';
import * as m013 from './013_answers_inline.js';
import * as m014 from './014_answers_as_text.js';
import * as m015 from './015_prepay_jobs.js';

export interface Migration {
  name: string;
  up: string;
}

export const migrations: readonly Migration[] = [m001, m002, m003, m004, m005, m006, m007, m008, m009, m010, m011, m012, m013, m014, m015];
