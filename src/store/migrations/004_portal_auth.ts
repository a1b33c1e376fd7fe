// Web logins for the customer portal, provider pages and admin backend: users (one per
// e-mail) with scrypt password hashes, browser sessions, single-use password-set links
// and login attempts for throttling. Session and link tokens are stored as SHA-256 hashes
// only; attempts live in the database so throttling holds across processes.
export const name = '004_portal_auth';
export const up = /* sql */ `
CREATE TABLE web_users (
  id text PRIMARY KEY,
  email text NOT NULL,
  role text NOT NULL CHECK (role IN ('admin', 'provider', 'customer')),
  customer_id text REFERENCES customers (id),
  provider_id text REFERENCES providers (id),
  name text,
  password_hash text,
  password_changed_at timestamptz,
  created_at timestamptz NOT NULL,
  disabled_at timestamptz,
  CHECK ((role = 'customer') = (customer_id IS NOT NULL)),
  CHECK ((role = 'provider') = (provider_id IS NOT NULL))
);
CREATE UNIQUE INDEX web_users_email_key ON web_users (lower(email));
CREATE UNIQUE INDEX web_users_customer_key ON web_users (customer_id) WHERE customer_id IS NOT NULL;
CREATE UNIQUE INDEX web_users_provider_key ON web_users (provider_id) WHERE provider_id IS NOT NULL;

CREATE TABLE web_sessions (
  id text PRIMARY KEY,
  token_hash text NOT NULL UNIQUE,
  user_id text NOT NULL REFERENCES web_users (id) ON DELETE CASCADE,
  csrf_token text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  ip text,
  user_agent text
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);

CREATE TABLE password_links (
  id text PRIMARY KEY,
  token_hash text NOT NULL UNIQUE,
  user_id text NOT NULL REFERENCES web_users (id) ON DELETE CASCADE,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX password_links_user ON password_links (user_id);

CREATE TABLE login_attempts (
  id bigserial PRIMARY KEY,
  email text NOT NULL,
  ip text NOT NULL,
  succeeded boolean NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX login_attempts_email ON login_attempts (email, created_at);
CREATE INDEX login_attempts_ip ON login_attempts (ip, created_at);
`;
