// Orders and everything around them: services and slots (seats), sites, orders with
// lines and payments, order refunds, the event history that doubles as the outbox,
// one current deadline per order, claims, reviews and payouts.
export const name = '002_orders';
export const up = /* sql */ `
CREATE TABLE services (
  id text PRIMARY KEY,
  provider_id text NOT NULL REFERENCES providers (id),
  name text NOT NULL,
  unit_amount bigint NOT NULL CHECK (unit_amount >= 0),
  currency text NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX services_provider ON services (provider_id, id);

-- Seats are taken by a conditional update (booked + n <= capacity), never read-then-write.
CREATE TABLE slots (
  id text PRIMARY KEY,
  service_id text NOT NULL REFERENCES services (id),
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL,
  capacity integer NOT NULL CHECK (capacity BETWEEN 1 AND 100000),
  booked integer NOT NULL DEFAULT 0,
  CHECK (ends_at > starts_at),
  CONSTRAINT slot_not_overbooked CHECK (booked BETWEEN 0 AND capacity)
);
CREATE INDEX slots_service ON slots (service_id, starts_at);

CREATE TABLE sites (
  id text PRIMARY KEY,
  customer_id text NOT NULL REFERENCES customers (id),
  address text NOT NULL,
  archived_at timestamptz,
  created_at timestamptz NOT NULL
);
CREATE INDEX sites_customer ON sites (customer_id, id);

CREATE SEQUENCE order_numbers;

CREATE TABLE orders (
  id text PRIMARY KEY,
  number text NOT NULL UNIQUE,
  process text NOT NULL,
  process_version text NOT NULL,
  state text NOT NULL,
  awaiting text,
  customer_id text NOT NULL REFERENCES customers (id),
  provider_id text NOT NULL REFERENCES providers (id),
  site_id text REFERENCES sites (id),
  currency text NOT NULL,
  starts_at timestamptz,
  ends_at timestamptz,
  subtotal bigint NOT NULL CHECK (subtotal >= 0),
  service_fee bigint NOT NULL CHECK (service_fee >= 0),
  -- Money received into escrow, and what went back out as refunds.
  paid bigint NOT NULL DEFAULT 0 CHECK (paid >= 0),
  refunded bigint NOT NULL DEFAULT 0 CHECK (refunded >= 0),
  service_fee_refunded bigint NOT NULL DEFAULT 0 CHECK (service_fee_refunded BETWEEN 0 AND service_fee),
  policies jsonb NOT NULL,
  comment text,
  proposal jsonb,
  cancellation jsonb,
  claim jsonb,
  review jsonb,
  created_by text NOT NULL,
  last_edit_by text,
  created_at timestamptz NOT NULL,
  last_edit_at timestamptz NOT NULL,
  entered_state_at timestamptz NOT NULL,
  closed_at timestamptz,
  updated_at timestamptz NOT NULL,
  CONSTRAINT refunds_within_paid CHECK (refunded <= paid)
);
CREATE INDEX orders_customer ON orders (customer_id, id);
CREATE INDEX orders_provider ON orders (provider_id, id);
CREATE INDEX orders_site ON orders (site_id, id) WHERE site_id IS NOT NULL;
CREATE INDEX orders_state ON orders (state, id);

CREATE TABLE order_lines (
  id text PRIMARY KEY,
  order_id text NOT NULL REFERENCES orders (id),
  position integer NOT NULL,
  description text NOT NULL,
  service_id text REFERENCES services (id),
  slot_id text REFERENCES slots (id),
  quantity integer NOT NULL CHECK (quantity BETWEEN 1 AND 10000),
  unit_amount bigint NOT NULL CHECK (unit_amount >= 0),
  amount bigint NOT NULL CHECK (amount >= 0),
  status text NOT NULL CHECK (status IN ('open', 'done', 'cancelled')),
  starts_at timestamptz,
  ends_at timestamptz,
  participant_name text,
  refunded bigint NOT NULL DEFAULT 0 CHECK (refunded BETWEEN 0 AND amount),
  done_at timestamptz,
  cancelled_at timestamptz,
  UNIQUE (order_id, position)
);
CREATE INDEX order_lines_order ON order_lines (order_id, position);
CREATE INDEX order_lines_slot ON order_lines (slot_id) WHERE slot_id IS NOT NULL;

CREATE TABLE order_payments (
  id text PRIMARY KEY,
  order_id text NOT NULL REFERENCES orders (id),
  customer_id text NOT NULL REFERENCES customers (id),
  method text NOT NULL CHECK (method IN ('card', 'account_credit')),
  amount bigint NOT NULL CHECK (amount > 0),
  currency text NOT NULL,
  -- Card payments: how much went back to the card (pending or succeeded), capped.
  refunded_amount bigint NOT NULL DEFAULT 0 CHECK (refunded_amount BETWEEN 0 AND amount),
  payment_method text,
  provider_reference text,
  transaction_id text NOT NULL REFERENCES ledger_transactions (id) DEFERRABLE INITIALLY DEFERRED,
  created_at timestamptz NOT NULL
);
CREATE INDEX order_payments_order ON order_payments (order_id);

ALTER TABLE refunds DROP CONSTRAINT refunds_source_type_check;
ALTER TABLE refunds ADD CONSTRAINT refunds_source_type_check CHECK (source_type IN ('top_up', 'charge', 'order', 'order_payment'));
ALTER TABLE refunds ADD COLUMN order_id text REFERENCES orders (id);
ALTER TABLE refunds ADD COLUMN explanation jsonb;
CREATE INDEX refunds_order ON refunds (order_id) WHERE order_id IS NOT NULL;

-- The order's history and the outbox: every transition writes one row in the same
-- transaction; GET /v1/events reads them with a cursor.
CREATE TABLE order_events (
  id text PRIMARY KEY,
  order_id text NOT NULL REFERENCES orders (id),
  type text NOT NULL,
  transition text,
  actor text NOT NULL,
  from_state text,
  to_state text,
  reason text,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX order_events_order ON order_events (order_id, id);

-- At most one pending deadline per order (the primary key); the worker claims due ones
-- with FOR UPDATE SKIP LOCKED and a lease so several processes share the work.
CREATE TABLE deadlines (
  order_id text PRIMARY KEY REFERENCES orders (id),
  transition text NOT NULL,
  due_at timestamptz NOT NULL,
  lease_until timestamptz,
  lease_owner text
);
CREATE INDEX deadlines_due ON deadlines (due_at);

CREATE TABLE payouts (
  id text PRIMARY KEY,
  provider_id text NOT NULL REFERENCES providers (id),
  order_id text NOT NULL UNIQUE REFERENCES orders (id),
  amount bigint NOT NULL CHECK (amount >= 0),
  currency text NOT NULL,
  status text NOT NULL CHECK (status IN ('scheduled', 'paid')),
  due_at timestamptz NOT NULL,
  paid_at timestamptz,
  transaction_id text REFERENCES ledger_transactions (id),
  created_at timestamptz NOT NULL
);
CREATE INDEX payouts_provider ON payouts (provider_id, id);
`;
