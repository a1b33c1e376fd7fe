// Prepay jobs (seed 002): a picture-day job with its names list (each name an access code,
// printed on a QR card), the photos uploaded under those codes, the pre-orders customers
// place with a code before picture day, the order collections staff review, and the
// batches that go to production. The orders themselves are ordinary orders (process
// 'prepay'); job_orders ties each to its job, subject, collection and batch.
export const name = '015_prepay_jobs';
export const up = /* sql */ `
CREATE TABLE jobs (
  id text PRIMARY KEY,
  name text NOT NULL,
  provider_id text NOT NULL REFERENCES providers (id),
  currency text NOT NULL,
  status text NOT NULL CHECK (status IN ('prepay', 'selling')),
  manual_revision boolean NOT NULL,
  -- The batch shipping deadline: the open batch goes to production then; null: by hand only.
  batch_release_at timestamptz,
  picture_day timestamptz,
  selling_at timestamptz,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX jobs_created ON jobs (created_at DESC, id DESC);

-- The job's price list: the provider's products (services without slots, in the job's
-- currency) a customer may pre-order, in the order they are offered.
CREATE TABLE job_products (
  job_id text NOT NULL REFERENCES jobs (id),
  service_id text NOT NULL REFERENCES services (id),
  position integer NOT NULL,
  PRIMARY KEY (job_id, service_id)
);

-- The names list. A subject without a name is a blank card (for paper orders of students
-- not on the list); its code is as good as any other.
CREATE TABLE job_subjects (
  id text PRIMARY KEY,
  job_id text NOT NULL REFERENCES jobs (id),
  name text,
  group_name text,
  access_code text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL
);
CREATE INDEX job_subjects_job ON job_subjects (job_id, name, id);

-- Uploaded photos: under a subject's access code, or a group picture for every subject of
-- a group. Only references (file names); the images live wherever the business keeps them.
CREATE TABLE job_photos (
  id text PRIMARY KEY,
  job_id text NOT NULL REFERENCES jobs (id),
  access_code text,
  group_name text,
  file_name text NOT NULL,
  created_at timestamptz NOT NULL,
  CHECK ((access_code IS NULL) <> (group_name IS NULL))
);
CREATE INDEX job_photos_code ON job_photos (job_id, access_code);
CREATE INDEX job_photos_group ON job_photos (job_id, group_name);

-- Order collections: the job's own (pre-orders and added paper orders join it), and the
-- ones orders without photos are split off into when the rest are placed.
CREATE TABLE job_collections (
  id text PRIMARY KEY,
  job_id text NOT NULL REFERENCES jobs (id),
  kind text NOT NULL CHECK (kind IN ('prepay', 'without_photos')),
  name text NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX job_collections_prepay ON job_collections (job_id) WHERE kind = 'prepay';

-- Batches: at most one open per job; released to production by hand or at release_at.
CREATE TABLE job_batches (
  id text PRIMARY KEY,
  job_id text NOT NULL REFERENCES jobs (id),
  status text NOT NULL CHECK (status IN ('open', 'released')),
  release_at timestamptz,
  released_at timestamptz,
  released_by text,
  created_at timestamptz NOT NULL,
  CHECK ((status = 'released') = (released_at IS NOT NULL))
);
CREATE UNIQUE INDEX job_batches_open ON job_batches (job_id) WHERE status = 'open';
CREATE INDEX job_batches_due ON job_batches (release_at) WHERE status = 'open';

CREATE TABLE job_orders (
  order_id text PRIMARY KEY REFERENCES orders (id),
  job_id text NOT NULL REFERENCES jobs (id),
  subject_id text NOT NULL REFERENCES job_subjects (id),
  collection_id text NOT NULL REFERENCES job_collections (id),
  batch_id text REFERENCES job_batches (id),
  -- The photos the order's products are made from: [{id, fileName}], set by populate or
  -- by staff in manual revision.
  photos jsonb NOT NULL,
  populated_at timestamptz,
  created_at timestamptz NOT NULL
);
CREATE INDEX job_orders_job ON job_orders (job_id, order_id);
CREATE INDEX job_orders_collection ON job_orders (collection_id, order_id);
CREATE INDEX job_orders_batch ON job_orders (batch_id, order_id) WHERE batch_id IS NOT NULL;
`;
