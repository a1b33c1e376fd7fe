// Customers (who pay) and providers (who perform and get paid out).
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

async function listParties(db: Db | Trx, table: PartyTable, page: PageRequest, email?: string): Promise<PartyRow[]> {
  let q = db.selectFrom(table).selectAll().orderBy('id', 'desc').limit(page.limit + 1);
  if (page.startingAfter) q = q.where('id', '<', page.startingAfter);
  if (email) q = q.where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase()));
  return q.execute();
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
    const row = await findParty(db, 'customers', id);
    return customerView(row, await this.s.ledger.balancesByCurrency(db, 'customer_credit', id));
  }

  async listCustomers(db: Db, page: PageRequest, email?: string): Promise<Page<CustomerView>> {
    const rows = await listParties(db, 'customers', page, email);
    const views = await Promise.all(
      rows.map(async (r) => customerView(r, await this.s.ledger.balancesByCurrency(db, 'customer_credit', r.id))),
    );
    return toPage(views, page.limit);
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
    const row = await findParty(db, 'providers', id);
    return providerView(row, await this.s.ledger.balancesByCurrency(db, 'provider_payable', id));
  }

  async listProviders(db: Db, page: PageRequest, email?: string): Promise<Page<ProviderView>> {
    const rows = await listParties(db, 'providers', page, email);
    const views = await Promise.all(
      rows.map(async (r) => providerView(r, await this.s.ledger.balancesByCurrency(db, 'provider_payable', r.id))),
    );
    return toPage(views, page.limit);
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
