// Customers (who pay) and providers (who perform and get paid out).
import { sql } from 'kysely';
import type { Db, Trx } from '../store/db.js';
import { conflict, notFound } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { customerCredit, providerPayable } from '../ledger/accounts.js';
import type { Services } from './context.js';
import { toPage, type Page, type PageRequest } from './pagination.js';

export interface CustomerView {
  id: string;
  object: 'customer';
  email: string;
  name: string;
  balances: Record<string, number>;
  createdAt: string;
}

export interface ProviderView {
  id: string;
  object: 'provider';
  email: string;
  name: string;
  /** What Settle owes the provider, per currency. */
  payableBalances: Record<string, number>;
  createdAt: string;
}

type PartyTable = 'customers' | 'providers';
type PartyRow = { id: string; email: string; name: string; created_at: Date };

const UNIQUE_VIOLATION = '23505';

async function insertParty(trx: Trx, table: PartyTable, row: PartyRow): Promise<void> {
  try {
    await trx.insertInto(table).values(row).execute();
  } catch (err) {
    if ((err as { code?: string }).code === UNIQUE_VIOLATION) {
      throw conflict('email_taken', `A ${table === 'customers' ? 'customer' : 'provider'} with e-mail ${row.email} already exists.`, { param: 'email' });
    }
    throw err;
  }
}

async function findParty(db: Db | Trx, table: PartyTable, id: string): Promise<PartyRow> {
  const row = await db.selectFrom(table).selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound(table === 'customers' ? 'customer' : 'provider', id);
  return row;
}

type PartyWithBalances = PartyRow & { balances: Record<string, number> };

const BALANCE_KIND = { customers: 'customer_credit', providers: 'provider_payable' } as const;

/** The party's balances per currency, in the same statement as the party (one round trip for a read). */
function withBalances(table: PartyTable) {
  return sql<Record<string, number>>`coalesce((
    select json_object_agg(t.currency, t.total order by t.currency)
    from (select a.currency, sum(b.balance) as total
          from accounts a join account_balances b on b.account_id = a.id
          where a.kind = ${BALANCE_KIND[table]} and a.owner_id = p.id
          group by a.currency) t), '{}')`.as('balances');
}

function parsedBalances(row: PartyWithBalances): PartyWithBalances {
  const balances = (typeof row.balances === 'string' ? JSON.parse(row.balances) : row.balances) as Record<string, number>;
  for (const [currency, total] of Object.entries(balances)) balances[currency] = Number(total);
  return { ...row, balances };
}

async function findPartyWithBalances(db: Db | Trx, table: PartyTable, id: string): Promise<PartyWithBalances> {
  const row = await db.selectFrom(`${table} as p`).selectAll('p').select(withBalances(table)).where('p.id', '=', id).executeTakeFirst();
  if (!row) throw notFound(table === 'customers' ? 'customer' : 'provider', id);
  return parsedBalances(row as PartyWithBalances);
}

async function listParties(db: Db | Trx, table: PartyTable, page: PageRequest, email?: string): Promise<PartyWithBalances[]> {
  let q = db.selectFrom(`${table} as p`).selectAll('p').select(withBalances(table)).orderBy('p.id', 'desc').limit(page.limit + 1);
  if (page.startingAfter) q = q.where('p.id', '<', page.startingAfter);
  if (email) q = q.where((eb) => eb(eb.fn('lower', ['p.email']), '=', email.toLowerCase()));
  return (await q.execute()).map((r) => parsedBalances(r as PartyWithBalances));
}

export class PartyService {
  constructor(private readonly s: Services) {}

  async createCustomer(trx: Trx, input: { email: string; name: string }): Promise<CustomerView> {
    const now = this.s.clock.now();
    const row = { id: newId('customer'), email: input.email, name: input.name, created_at: now };
    await insertParty(trx, 'customers', row);
    // Open the account in the business currency so balances show it from the start.
    const { defaultCurrency } = await this.s.settings.get(trx);
    await this.s.ledger.ensureAccounts(trx, [customerCredit(row.id, defaultCurrency)], now);
    return { ...customerView(row, { [defaultCurrency]: 0 }) };
  }

  async getCustomer(db: Db | Trx, id: string): Promise<CustomerView> {
    const row = await findPartyWithBalances(db, 'customers', id);
    return customerView(row, row.balances);
  }

  async listCustomers(db: Db, page: PageRequest, email?: string): Promise<Page<CustomerView>> {
    const rows = await listParties(db, 'customers', page, email);
    return toPage(rows.map((r) => customerView(r, r.balances)), page.limit);
  }

  async createProvider(trx: Trx, input: { email: string; name: string }): Promise<ProviderView> {
    const now = this.s.clock.now();
    const row = { id: newId('provider'), email: input.email, name: input.name, created_at: now };
    await insertParty(trx, 'providers', row);
    const { defaultCurrency } = await this.s.settings.get(trx);
    await this.s.ledger.ensureAccounts(trx, [providerPayable(row.id, defaultCurrency)], now);
    return providerView(row, { [defaultCurrency]: 0 });
  }

  async getProvider(db: Db | Trx, id: string): Promise<ProviderView> {
    const row = await findPartyWithBalances(db, 'providers', id);
    return providerView(row, row.balances);
  }

  async listProviders(db: Db, page: PageRequest, email?: string): Promise<Page<ProviderView>> {
    const rows = await listParties(db, 'providers', page, email);
    return toPage(rows.map((r) => providerView(r, r.balances)), page.limit);
  }

  /** Throws 404 unless the customer exists; used before writing anything for them. */
  async assertCustomer(db: Db | Trx, id: string): Promise<void> {
    await findParty(db, 'customers', id);
  }

  async assertProvider(db: Db | Trx, id: string): Promise<void> {
    await findParty(db, 'providers', id);
  }
}

function customerView(row: PartyRow, balances: Record<string, number>): CustomerView {
  return { id: row.id, object: 'customer', email: row.email, name: row.name, balances, createdAt: row.created_at.toISOString() };
}

function providerView(row: PartyRow, payableBalances: Record<string, number>): ProviderView {
  return { id: row.id, object: 'provider', email: row.email, name: row.name, payableBalances, createdAt: row.created_at.toISOString() };
}
