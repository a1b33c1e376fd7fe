// Sandbox only: web logins for the demo business — each demo customer and provider and
// an admin (admin@example.com) — with the public demo password `settle-demo-password`,
// and a fresh password-set link for each at every start (links are stored hashed, so
// the ones printed last time cannot be printed again; the new ones replace them).
// Never called in live mode.
import type { Db, Store } from '../../store/db.js';
import { DEMO_ADMIN_EMAIL, DEMO_PASSWORD, type WebAuthService, type WebRole } from './web-auth.js';

export interface DemoWebLogin {
  role: WebRole;
  name: string;
  email: string;
  /** The demo password (sandbox only); whoever used a link since may have changed it. */
  password: string;
  /** `/set-password#token=…`: prefix the server's URL. */
  setPasswordPath: string;
}

interface DemoParty {
  role: 'customer' | 'provider';
  id: string;
}

async function demoParties(db: Db): Promise<DemoParty[]> {
  const row = await db.selectFrom('sandbox_demo').select('logins').executeTakeFirst();
  const logins = Array.isArray(row?.logins) ? (row.logins as Array<{ role?: unknown; id?: unknown }>) : [];
  return logins.filter((l): l is DemoParty => (l.role === 'customer' || l.role === 'provider') && typeof l.id === 'string');
}

/**
 * Makes sure every demo party and the demo admin has a web login (new ones get the demo
 * password; existing passwords are left alone) and returns them with fresh links.
 */
export async function ensureDemoWebUsers(store: Store, webAuth: WebAuthService): Promise<DemoWebLogin[]> {
  const parties = await demoParties(store.db);
  const wanted: Array<{ email: string; role: WebRole }> = [{ email: DEMO_ADMIN_EMAIL, role: 'admin' }];
  for (const p of parties) {
    const table = p.role === 'customer' ? 'customers' : 'providers';
    const party = await store.db.selectFrom(table).select('email').where('id', '=', p.id).executeTakeFirst();
    if (party) wanted.push({ email: party.email, role: p.role });
  }
  const missing: typeof wanted = [];
  const usable: typeof wanted = [];
  for (const w of wanted) {
    const existing = await webAuth.findUserByEmail(store.db, w.email);
    if (!existing) missing.push(w);
    if (!existing || existing.role === w.role) usable.push(w); // someone else's login with that e-mail: leave it
  }
  // One hash (and salt) per user, computed before the transaction.
  const hashes = await Promise.all(missing.map(() => webAuth.hashPassword(DEMO_PASSWORD)));
  return store.transaction(async (trx) => {
    for (const [i, w] of missing.entries()) {
      const user = await webAuth.ensureUser(trx, { email: w.email, role: w.role, name: w.role === 'admin' ? 'Demo admin' : undefined });
      await webAuth.setPassword(trx, user.id, DEMO_PASSWORD, hashes[i]);
    }
    const out: DemoWebLogin[] = [];
    for (const w of usable) {
      const link = await webAuth.createPasswordLink(trx, { email: w.email, role: w.role, createdBy: 'sandbox-demo' });
      const user = await webAuth.findUserByEmail(trx, w.email);
      out.push({ role: link.role, name: user?.name ?? w.email, email: link.email, password: DEMO_PASSWORD, setPasswordPath: link.path });
    }
    return out;
  });
}
