// Kysely table types. Money columns are numbers (minor units; parsed from int8 with a
// safe-integer check in db.ts). Timestamps are Date on read, Date or ISO string on write.
import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export interface SettingsTable {
  id: Generated<number>;
  data: ColumnType<unknown, string, string>;
  updated_at: Timestamp;
}

export interface SandboxClockTable {
  id: Generated<number>;
  frozen_at: Timestamp;
}

export interface SandboxDemoTable {
  id: Generated<number>;
  admin_key: string;
  logins: ColumnType<unknown, string, string>;
}

export interface PartyTable {
  id: string;
  email: string;
  name: string;
  created_at: Timestamp;
}

export interface ApiKeysTable {
  id: string;
  key_hash: string;
  role: 'admin' | 'provider' | 'customer';
  customer_id: string | null;
  provider_id: string | null;
  label: string | null;
  created_at: Timestamp;
  revoked_at: Timestamp | null;
}

export interface AccountsTable {
  id: string;
  kind: string;
  owner_id: string | null;
  currency: string;
  allow_negative: boolean;
  shards: number;
  created_at: Timestamp;
}

export interface AccountBalancesTable {
  account_id: string;
  shard: number;
  allow_negative: boolean;
  balance: number;
}

export interface LedgerTransactionsTable {
  id: string;
  type: string;
  currency: string;
  memo: string | null;
  actor: string;
  customer_id: string | null;
  provider_id: string | null;
  order_id: string | null;
  cause_type: string;
  cause_id: string;
  reverses_id: string | null;
  related_id: string | null;
  created_at: Timestamp;
}

export interface PostingsTable {
  transaction_id: string;
  account_id: string;
  amount: number;
}

export interface TopUpsTable {
  id: string;
  customer_id: string;
  amount: number;
  currency: string;
  payment_method: string;
  provider_reference: string;
  refunded_amount: Generated<number>;
  transaction_id: string;
  created_at: Timestamp;
}

export interface ChargesTable {
  id: string;
  customer_id: string;
  provider_id: string;
  amount: number;
  currency: string;
  description: string;
  commission_amount: number;
  refunded_amount: Generated<number>;
  commission_refunded: Generated<number>;
  status: 'succeeded' | 'reversed';
  transaction_id: string;
  created_at: Timestamp;
}

export type RefundStatus = 'pending' | 'succeeded' | 'failed' | 'reversed';
export type RefundDestination = 'card' | 'account_credit';

export interface RefundsTable {
  id: string;
  source_type: 'top_up' | 'charge';
  source_id: string;
  customer_id: string;
  amount: number;
  currency: string;
  destination: RefundDestination;
  status: RefundStatus;
  reason: string | null;
  failure_reason: string | null;
  provider_reference: string | null;
  attempts: Generated<number>;
  actor: string;
  transaction_id: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface IdempotencyKeysTable {
  scope: string;
  key: string;
  request_hash: string;
  status_code: number;
  response: ColumnType<unknown, string, string>;
  created_at: Generated<Timestamp>;
}

export interface MigrationsTable {
  name: string;
  applied_at: Timestamp;
}

export interface Database {
  settings: SettingsTable;
  sandbox_clock: SandboxClockTable;
  sandbox_demo: SandboxDemoTable;
  customers: PartyTable;
  providers: PartyTable;
  api_keys: ApiKeysTable;
  accounts: AccountsTable;
  account_balances: AccountBalancesTable;
  ledger_transactions: LedgerTransactionsTable;
  postings: PostingsTable;
  top_ups: TopUpsTable;
  charges: ChargesTable;
  refunds: RefundsTable;
  idempotency_keys: IdempotencyKeysTable;
  settle_migrations: MigrationsTable;
}
