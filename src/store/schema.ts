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
  source_type: 'top_up' | 'charge' | 'order' | 'order_payment';
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
  order_id: Generated<string | null>;
  explanation: ColumnType<unknown, string | null | undefined, string | null>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface IdempotencyKeysTable {
  scope: string;
  key: string;
  request_hash: string;
  status_code: number;
  /** The answer's JSON text, stored and replayed as it was sent. */
  response: string;
  created_at: Generated<Timestamp>;
}

export interface ServicesTable {
  id: string;
  provider_id: string;
  name: string;
  unit_amount: number;
  currency: string;
  created_at: Timestamp;
}

export interface SlotsTable {
  id: string;
  service_id: string;
  starts_at: Timestamp;
  ends_at: Timestamp;
  capacity: number;
  booked: Generated<number>;
}

export interface SitesTable {
  id: string;
  customer_id: string;
  address: string;
  archived_at: Timestamp | null;
  created_at: Timestamp;
  search_text: Generated<string>;
  search_tsv: ColumnType<string, string | undefined, string>;
}

type Json = ColumnType<unknown, string, string>;
type NullableJson = ColumnType<unknown, string | null, string | null>;

export interface OrdersTable {
  id: string;
  number: string;
  process: string;
  process_version: string;
  state: string;
  awaiting: string | null;
  customer_id: string;
  provider_id: string;
  site_id: string | null;
  currency: string;
  starts_at: Timestamp | null;
  ends_at: Timestamp | null;
  subtotal: number;
  service_fee: number;
  paid: Generated<number>;
  refunded: Generated<number>;
  service_fee_refunded: Generated<number>;
  policies: Json;
  comment: string | null;
  proposal: NullableJson;
  cancellation: NullableJson;
  claim: NullableJson;
  review: NullableJson;
  created_by: string;
  last_edit_by: string | null;
  created_at: Timestamp;
  last_edit_at: Timestamp;
  entered_state_at: Timestamp;
  closed_at: Timestamp | null;
  updated_at: Timestamp;
}

export type LineStatus = 'open' | 'done' | 'cancelled';

export interface OrderLinesTable {
  id: string;
  order_id: string;
  position: number;
  description: string;
  service_id: string | null;
  slot_id: string | null;
  quantity: number;
  unit_amount: number;
  amount: number;
  status: LineStatus;
  starts_at: Timestamp | null;
  ends_at: Timestamp | null;
  participant_name: string | null;
  refunded: Generated<number>;
  done_at: Timestamp | null;
  cancelled_at: Timestamp | null;
}

export interface OrderPaymentsTable {
  id: string;
  order_id: string;
  customer_id: string;
  method: 'card' | 'account_credit';
  amount: number;
  currency: string;
  refunded_amount: Generated<number>;
  payment_method: string | null;
  provider_reference: string | null;
  transaction_id: string;
  created_at: Timestamp;
}

export interface OrderEventsTable {
  id: string;
  order_id: string;
  type: string;
  transition: string | null;
  actor: string;
  from_state: string | null;
  to_state: string | null;
  reason: string | null;
  payload: Json;
  created_at: Timestamp;
}

export interface DeadlinesTable {
  order_id: string;
  transition: string;
  due_at: Timestamp;
  lease_until: Timestamp | null;
  lease_owner: string | null;
}

export interface PayoutsTable {
  id: string;
  provider_id: string;
  order_id: string;
  amount: number;
  currency: string;
  /** cancelled: refunded in full before it was due (amount 0), never paid. */
  status: 'scheduled' | 'paid' | 'cancelled';
  due_at: Timestamp;
  paid_at: Timestamp | null;
  transaction_id: string | null;
  created_at: Timestamp;
}

export interface WebUsersTable {
  id: string;
  email: string;
  role: 'admin' | 'provider' | 'customer';
  customer_id: string | null;
  provider_id: string | null;
  name: string | null;
  password_hash: string | null;
  password_changed_at: Timestamp | null;
  created_at: Timestamp;
  disabled_at: Timestamp | null;
}

export interface WebSessionsTable {
  id: string;
  token_hash: string;
  user_id: string;
  csrf_token: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  ip: string | null;
  user_agent: string | null;
}

export interface PasswordLinksTable {
  id: string;
  token_hash: string;
  user_id: string;
  created_by: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface LoginAttemptsTable {
  id: Generated<number>;
  email: string;
  ip: string;
  succeeded: boolean;
  created_at: Timestamp;
}

export interface MigrationsTable {
  name: string;
  applied_at: Timestamp;
}

// Prepay jobs (seed 002; migration 015).
export interface JobsTable {
  id: string;
  name: string;
  provider_id: string;
  currency: string;
  status: 'prepay' | 'selling';
  manual_revision: boolean;
  batch_release_at: Timestamp | null;
  picture_day: Timestamp | null;
  selling_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface JobProductsTable {
  job_id: string;
  service_id: string;
  position: number;
}

export interface JobSubjectsTable {
  id: string;
  job_id: string;
  name: string | null;
  group_name: string | null;
  access_code: string;
  created_at: Timestamp;
}

export interface JobPhotosTable {
  id: string;
  job_id: string;
  access_code: string | null;
  group_name: string | null;
  file_name: string;
  created_at: Timestamp;
}

export interface JobCollectionsTable {
  id: string;
  job_id: string;
  kind: 'prepay' | 'without_photos';
  name: string;
  created_at: Timestamp;
}

export interface JobBatchesTable {
  id: string;
  job_id: string;
  status: 'open' | 'released';
  release_at: Timestamp | null;
  released_at: Timestamp | null;
  released_by: string | null;
  created_at: Timestamp;
}

export interface JobOrdersTable {
  order_id: string;
  job_id: string;
  subject_id: string;
  collection_id: string;
  batch_id: string | null;
  photos: Json;
  populated_at: Timestamp | null;
  created_at: Timestamp;
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
  services: ServicesTable;
  slots: SlotsTable;
  sites: SitesTable;
  orders: OrdersTable;
  order_lines: OrderLinesTable;
  order_payments: OrderPaymentsTable;
  order_events: OrderEventsTable;
  deadlines: DeadlinesTable;
  payouts: PayoutsTable;
  web_users: WebUsersTable;
  web_sessions: WebSessionsTable;
  password_links: PasswordLinksTable;
  login_attempts: LoginAttemptsTable;
  jobs: JobsTable;
  job_products: JobProductsTable;
  job_subjects: JobSubjectsTable;
  job_photos: JobPhotosTable;
  job_collections: JobCollectionsTable;
  job_batches: JobBatchesTable;
  job_orders: JobOrdersTable;
}
