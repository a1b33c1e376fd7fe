// Foundation schema: keys, customers, providers, the ledger, top-ups, charges, refunds,
// idempotency records and settings. Money columns are bigint minor units.
export const name = '001_foundation';
export const up = /* sql */ `
CREATE TABLE settings (
  id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  data jsonb NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE TABLE sandbox_clock (
  id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  frozen_at timestamptz NOT NULL
);

-- Sandbox only: the demo admin key, kept so every start can print it.
CREATE TABLE sandbox_demo (
  id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  admin_key text NOT NULL,
  logins jsonb NOT NULL
);

CREATE TABLE customers (
  id text PRIMARY KEY,
  email text NOT NULL,
  name text NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX customers_email_key ON customers (lower(email));

CREATE TABLE providers (
  id text PRIMARY KEY,
  email text NOT NULL,
  name text NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX providers_email_key ON providers (lower(email));

CREATE TABLE api_keys (
  id text PRIMARY KEY,
  key_hash text NOT NULL UNIQUE,
  role text NOT NULL CHECK (role IN ('admin', 'provider', 'customer')),
  customer_id text REFERENCES customers (id),
  provider_id text REFERENCES providers (id),
  label text,
  created_at timestamptz NOT NULL,
  revoked_at timestamptz,
  CHECK ((role = 'customer') = (customer_id IS NOT NULL)),
  CHECK ((role = 'provider') = (provider_id IS NOT NULL))
);

-- One account per (kind, owner, currency). Hot platform accounts are split into
-- several balance shards so concurrent writers do not queue on one row.
CREATE TABLE accounts (
  id text PRIMARY KEY,
  kind text NOT NULL,
  owner_id text,
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  allow_negative boolean NOT NULL,
  shards smallint NOT NULL CHECK (shards BETWEEN 1 AND 64),
  created_at timestamptz NOT NULL,
  UNIQUE NULLS NOT DISTINCT (kind, owner_id, currency)
);

CREATE TABLE account_balances (
  account_id text NOT NULL REFERENCES accounts (id),
  shard smallint NOT NULL,
  allow_negative boolean NOT NULL,
  balance bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (account_id, shard),
  CONSTRAINT balance_not_negative CHECK (allow_negative OR balance >= 0)
);

CREATE TABLE ledger_transactions (
  id text PRIMARY KEY,
  type text NOT NULL,
  currency text NOT NULL,
  memo text,
  actor text NOT NULL,
  customer_id text,
  provider_id text,
  order_id text,
  cause_type text NOT NULL,
  cause_id text NOT NULL,
  reverses_id text UNIQUE REFERENCES ledger_transactions (id),
  related_id text REFERENCES ledger_transactions (id),
  created_at timestamptz NOT NULL
);
CREATE INDEX ledger_transactions_cause ON ledger_transactions (cause_id);

CREATE TABLE postings (
  transaction_id text NOT NULL REFERENCES ledger_transactions (id) DEFERRABLE INITIALLY DEFERRED,
  account_id text NOT NULL REFERENCES accounts (id),
  amount bigint NOT NULL CHECK (amount <> 0),
  PRIMARY KEY (account_id, transaction_id)
);
CREATE INDEX postings_transaction ON postings (transaction_id);

-- The ledger is append-only: corrections are new (reversal) transactions.
CREATE FUNCTION settle_ledger_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger rows are immutable (% on %)', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON ledger_transactions
  FOR EACH ROW EXECUTE FUNCTION settle_ledger_is_append_only();
CREATE TRIGGER postings_append_only BEFORE UPDATE OR DELETE ON postings
  FOR EACH ROW EXECUTE FUNCTION settle_ledger_is_append_only();

CREATE TABLE top_ups (
  id text PRIMARY KEY,
  customer_id text NOT NULL REFERENCES customers (id),
  amount bigint NOT NULL CHECK (amount > 0),
  currency text NOT NULL,
  payment_method text NOT NULL,
  provider_reference text NOT NULL,
  -- Reserved by pending and succeeded card refunds; never above the amount.
  refunded_amount bigint NOT NULL DEFAULT 0 CHECK (refunded_amount BETWEEN 0 AND amount),
  transaction_id text NOT NULL REFERENCES ledger_transactions (id) DEFERRABLE INITIALLY DEFERRED,
  created_at timestamptz NOT NULL
);
CREATE INDEX top_ups_customer ON top_ups (customer_id, id);

CREATE TABLE charges (
  id text PRIMARY KEY,
  customer_id text NOT NULL REFERENCES customers (id),
  provider_id text NOT NULL REFERENCES providers (id),
  amount bigint NOT NULL CHECK (amount > 0),
  currency text NOT NULL,
  description text NOT NULL,
  commission_amount bigint NOT NULL CHECK (commission_amount BETWEEN 0 AND amount),
  refunded_amount bigint NOT NULL DEFAULT 0 CHECK (refunded_amount BETWEEN 0 AND amount),
  commission_refunded bigint NOT NULL DEFAULT 0 CHECK (commission_refunded BETWEEN 0 AND commission_amount),
  status text NOT NULL CHECK (status IN ('succeeded', 'reversed')),
  transaction_id text NOT NULL REFERENCES ledger_transactions (id) DEFERRABLE INITIALLY DEFERRED,
  created_at timestamptz NOT NULL
);
CREATE INDEX charges_customer ON charges (customer_id, id);
CREATE INDEX charges_provider ON charges (provider_id, id);

CREATE TABLE refunds (
  id text PRIMARY KEY,
  source_type text NOT NULL CHECK (source_type IN ('top_up', 'charge')),
  source_id text NOT NULL,
  customer_id text NOT NULL REFERENCES customers (id),
  amount bigint NOT NULL CHECK (amount > 0),
  currency text NOT NULL,
  destination text NOT NULL CHECK (destination IN ('card', 'account_credit')),
  status text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'reversed')),
  reason text,
  failure_reason text,
  provider_reference text,
  attempts integer NOT NULL DEFAULT 0,
  actor text NOT NULL,
  transaction_id text REFERENCES ledger_transactions (id),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX refunds_source ON refunds (source_id);
CREATE INDEX refunds_pending ON refunds (status) WHERE status = 'pending';

CREATE TABLE idempotency_keys (
  scope text NOT NULL,
  key text NOT NULL,
  request_hash text NOT NULL,
  status_code integer NOT NULL,
  response jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
`;
