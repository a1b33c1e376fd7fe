// Prepay jobs and prepay orders in the simulation (seed 002, "How to Fulfill Prepay
// Orders"; see sim.ts). Staff create picture-day jobs (some with manual revision, some
// with a batch shipping deadline ahead) with a price list of the provider's products
// (services without slots), add names (and blank cards) to the names list,
// upload photos (not every code gets one; group pictures), re-tag photos, change the job
// (deadline, manual revision, Prepay → Selling). Customers pre-order with an access code
// from the job's price list (staff for paper orders, with lines of their own too, naming
// blank cards); the orders are paid, populated, placed (orders without photos
// split off into a collection of their own), revised and released, and their batch goes
// to production by hand or at its deadline (the clock jumps there).
//
// Every job step is predicted from the database before it is sent (which orders a
// populate fills and with which photos, where a placement puts each order, what a batch
// release sends) and checked against the answer and the database after it; a refusal
// must be the predicted one and, like every refusal, change nothing.
import { sql } from 'kysely';
import { isDeepStrictEqual } from 'node:util';
import { DAY, firstDifference, HOUR, iso, rel, type ActionName, type JobAction, type OrderRef, type Party, type Service, type Who } from './actions.js';
import type { Rng } from './rng.js';
import { fail, outcome, timed, type Res, type SimOptions, type World } from './world.js';

export interface SubjectRef {
  id: string;
  /** The code on the QR card: never written to the trace (drawn by the server's CSPRNG). */
  code: string;
  name: string | null;
  group: string | null;
}

export interface PhotoRef {
  id: string;
  fileName: string;
}

/** A product: a service of a provider without slots, for price lists. */
export interface ProductRef {
  id: string;
  label: string;
  provider: number;
  name: string;
  unitAmount: number;
}

export interface JobRef {
  id: string;
  label: string;
  provider: number;
  /** The price list (product ids, in the order offered). */
  products: string[];
  /** The job's collections as they appeared: [0] its own (prepay), then the split-off ones. */
  collections: string[];
  /** Its batches as they opened. */
  batches: string[];
  subjects: SubjectRef[];
  photos: PhotoRef[];
  selling: boolean;
}

/** What prepay jobs need from the simulation. */
export interface PrepayContext {
  readonly rng: Rng;
  readonly world: World;
  readonly options: SimOptions;
  readonly now: Date;
  readonly admin: Party;
  readonly customers: readonly Party[];
  readonly providers: readonly Party[];
  readonly orders: OrderRef[];
  readonly orderIndex: Map<string, number>;
  readonly jobs: JobRef[];
  readonly products: ProductRef[];
  readonly services: readonly Service[];
  readonly subNotes: string[];
  send(what: string, method: 'POST' | 'PATCH', path: string, body: unknown, key: string): Promise<Res>;
  get(path: string, key?: string): Promise<Res>;
  note(line: string): void;
  labelOf(id: string): string;
}

const GROUPS = ['Class 3B', 'Class 4A', 'Class 5C'] as const;
const PRODUCTS = [
  { description: 'Package A: 2 prints 5x7, 8 wallets', unitAmount: 3_500 },
  { description: 'Class group print 8x10', unitAmount: 1_200 },
  { description: 'Memory mate 8x10', unitAmount: 2_500 },
  { description: 'Digital download', unitAmount: 900 },
  { description: 'Retouching', unitAmount: 0 },
] as const;
/** A code that can never be issued (the alphabet has no 0 or 1). */
const UNKNOWN_CODE = 'ZZZZ0000';
const NO_ID = '00000000000000000000000000';
const CODE_FORMAT = /^[23456789A-HJKMNP-Z]{8}$/;

/** How a customer might type a code: any case, with a dash or spaces (the server normalizes). */
function typed(rng: Rng, code: string): string {
  const v = rng.weighted({ plain: 70, lower: 12, dashed: 12, spaced: 6 });
  if (v === 'lower') return code.toLowerCase();
  if (v === 'dashed') return `${code.slice(0, 4)}-${code.slice(4)}`;
  if (v === 'spaced') return ` ${code.slice(0, 4)} ${code.slice(4)}`.trim();
  return code;
}

export function collectionLabel(j: JobRef, id: string | null): string {
  if (id === null) return '-';
  const i = j.collections.indexOf(id);
  return i < 0 ? 'col?' : `${j.label}.c${i}`;
}

export function batchLabel(j: JobRef, id: string | null): string {
  if (id === null) return '-';
  const i = j.batches.indexOf(id);
  return i < 0 ? 'bat?' : `${j.label}.b${i}`;
}

function partyOf(sim: PrepayContext, who: Who, customer: number, provider: number): Party {
  switch (who) {
    case 'admin':
      return sim.admin;
    case 'customer':
      return sim.customers[customer]!;
    case 'provider':
      return sim.providers[provider]!;
    case 'stranger_customer':
      return sim.customers[(customer + 1) % sim.customers.length]!;
    case 'stranger_provider':
      return sim.providers[(provider + 1) % sim.providers.length]!;
  }
}

/** A refusal was expected: it must be this status (and code, when given). */
function expectRefusal(head: string, res: Res, status: number, code?: string): void {
  if (res.status !== status || (code !== undefined && res.body?.error?.code !== code)) fail(`${head}: expected ${status}${code ? ` ${code}` : ''}, got ${outcome(res)} ${res.body?.error?.message ?? ''}`);
}

// ----- reading the job's side of things from the database --------------------------------

interface HeldRow {
  order_id: string;
  state: string;
  collection_id: string;
  batch_id: string | null;
  photos: string[];
  populated_at: Date | null;
  code: string;
  group_name: string | null;
}

async function jobOrders(sim: PrepayContext, where: { collectionId?: string; orderId?: string; batchId?: string }): Promise<HeldRow[]> {
  const r = await timed('prepay reads', () => sql<any>`
    select jo.order_id, o.state, jo.collection_id, jo.batch_id, jo.photos, jo.populated_at, s.access_code as code, s.group_name
    from job_orders jo join orders o on o.id = jo.order_id join job_subjects s on s.id = jo.subject_id
    where ${where.collectionId ? sql`jo.collection_id = ${where.collectionId}` : sql`true`}
      and ${where.orderId ? sql`jo.order_id = ${where.orderId}` : sql`true`}
      and ${where.batchId ? sql`jo.batch_id = ${where.batchId}` : sql`true`}
    order by jo.order_id`.execute(sim.world.store.db));
  return r.rows.map((row: any) => {
    const list = typeof row.photos === 'string' ? JSON.parse(row.photos) : row.photos;
    return { ...row, photos: (list as { id: string }[]).map((p) => p.id), populated_at: row.populated_at === null ? null : new Date(row.populated_at) };
  });
}

async function jobPhotos(sim: PrepayContext, jobId: string): Promise<{ id: string; access_code: string | null; group_name: string | null }[]> {
  const r = await sql<{ id: string; access_code: string | null; group_name: string | null }>`
    select id, access_code, group_name from job_photos where job_id = ${jobId} order by id`.execute(sim.world.store.db);
  return r.rows;
}

async function jobRow(sim: PrepayContext, jobId: string): Promise<{ status: string; manual_revision: boolean; batch_release_at: Date | null }> {
  const r = await sql<any>`select status, manual_revision, batch_release_at from jobs where id = ${jobId}`.execute(sim.world.store.db);
  return r.rows[0];
}

async function openBatchOf(sim: PrepayContext, jobId: string): Promise<string | null> {
  const r = await sql<{ id: string }>`select id from job_batches where job_id = ${jobId} and status = 'open'`.execute(sim.world.store.db);
  if (r.rows.length > 1) fail(`job ${sim.jobs.find((j) => j.id === jobId)?.label}: ${r.rows.length} open batches`);
  return r.rows[0]?.id ?? null;
}

/** The photos populate gives an order: its code's, then its group's — never the group's alone. */
function expectedPhotos(photos: { id: string; access_code: string | null; group_name: string | null }[], code: string, group: string | null): string[] {
  const own = photos.filter((p) => p.access_code === code).map((p) => p.id);
  if (own.length === 0 || group === null) return own;
  return [...own, ...photos.filter((p) => p.group_name === group).map((p) => p.id)];
}

function idsOf(list: { orderId: string }[]): string[] {
  return list.map((o) => o.orderId).sort();
}

function labels(sim: PrepayContext, ids: string[]): string {
  return ids.map((id) => sim.labelOf(id)).sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))).join(',') || 'none';
}

// ----- the job --------------------------------------------------------------------------

/** A job-level step: make a job, grow its names list, upload or re-tag photos, change it, work a collection or batch, read it. */
export async function jobStep(sim: PrepayContext): Promise<void> {
  const rng = sim.rng;
  // The next picture day: a new job now and then, more likely once every job sells.
  const selling = sim.jobs.every((j) => j.selling);
  if (sim.jobs.length === 0 || (sim.jobs.length < 6 && rng.chance(selling ? 0.5 : 0.06))) return createJob(sim);
  const j = sim.jobs.length > 1 && rng.chance(0.6) ? sim.jobs[sim.jobs.length - 1]! : rng.pick(sim.jobs);
  const kind = rng.weighted({
    subjects: j.subjects.length < 4 ? 25 : 6,
    correct: j.subjects.length ? 4 : 0,
    upload: j.subjects.length ? 24 : 0,
    retag: j.photos.length ? 5 : 0,
    patch: 12,
    populate: 12,
    place: 12,
    release: j.batches.length ? 10 : 0,
    lookup: j.subjects.length ? 4 : 0,
    read: 6,
    foreign: sim.orders.some((o) => o.process !== 'prepay') ? 2 : 0,
  });
  switch (kind) {
    case 'subjects':
      return addSubjects(sim, j);
    case 'correct':
      return correctSubject(sim, j);
    case 'upload':
      await uploadPhotos(sim, j, null, rng.chance(0.92) ? 'admin' : 'customer');
      return;
    case 'retag':
      return retagPhoto(sim, j);
    case 'patch':
      return patchJob(sim, j);
    case 'populate':
    case 'place': {
      const collection = rng.chance(0.6) ? j.collections[j.collections.length - 1]! : rng.pick(j.collections);
      await (kind === 'populate' ? populate(sim, j, collection, 'admin', null) : place(sim, j, collection, 'admin', null));
      return;
    }
    case 'release':
      await releaseBatch(sim, j, rng.chance(0.7) ? j.batches[j.batches.length - 1]! : rng.pick(j.batches), 'admin', null);
      return;
    case 'lookup':
      return lookupCode(sim, j);
    case 'read':
      return readJob(sim, j);
    case 'foreign': {
      // A booking or direct order is in no job: the job's order steps do not find it.
      const ref = rng.pick(sim.orders.filter((o) => o.process !== 'prepay'));
      const release = rng.chance(0.5);
      const res = await sim.send('job step on another order', 'POST', `/v1/jobs/${j.id}/orders/${ref.id}/${release ? 'release' : 'photos'}`, release ? {} : { photoIds: [`pho_${NO_ID}`] }, sim.admin.key);
      const head = `${j.label} ${release ? 'release from revision' : 'set photos of'} ${ref.label} (${ref.process})`;
      sim.note(`${head} → ${outcome(res)}`);
      return expectRefusal(head, res, 404, 'resource_missing');
    }
  }
}

/** The provider's products (services without slots) for price lists, made the first time a job needs them. */
async function productsOf(sim: PrepayContext, provider: number): Promise<ProductRef[]> {
  const own = sim.products.filter((p) => p.provider === provider);
  if (own.length >= 2 && !sim.rng.chance(0.1)) return own;
  for (let n = own.length ? 1 : sim.rng.int(2, 4); n > 0; n--) {
    const p = PRODUCTS[sim.products.length % PRODUCTS.length]!;
    const body = { name: `${p.description} (p${provider})`, providerId: sim.providers[provider]!.id, unitAmount: sim.rng.chance(0.8) ? p.unitAmount : sim.rng.pick([500, 4_900]), currency: 'USD' };
    const res = await sim.send('create product', 'POST', '/v1/services', body, sim.admin.key);
    const label = `pr${sim.products.length}`;
    sim.subNotes.push(`product ${label} of p${provider}: ${body.unitAmount} → ${outcome(res)}`);
    if (res.status !== 200) fail(`create product: ${outcome(res)}`);
    sim.products.push({ id: res.body.id, label, provider, name: res.body.name, unitAmount: body.unitAmount });
  }
  return sim.products.filter((p) => p.provider === provider);
}

/**
 * A price list for a job of `provider` (a subset of its products, in some order), or one
 * wrong on purpose: a session with slots, another provider's product, one listed twice.
 */
async function priceList(sim: PrepayContext, provider: number, allowBroken: boolean): Promise<{ ids: string[]; broken: 'none' | 'with_slots' | 'other_provider' | 'twice' | 'unknown' }> {
  const rng = sim.rng;
  const own = await productsOf(sim, provider);
  const ids = rng.chance(0.08) ? [] : rng.subset(own).map((p) => p.id);
  if (rng.chance(0.3)) ids.reverse();
  const sessions = sim.services.filter((x) => x.provider === provider && x.slots.length);
  const others = sim.products.filter((p) => p.provider !== provider);
  const broken = allowBroken ? rng.weighted({ none: 88, with_slots: sessions.length ? 4 : 0, other_provider: others.length ? 4 : 0, twice: ids.length ? 2 : 0, unknown: 2 }) : 'none';
  if (broken === 'with_slots') ids.splice(rng.int(0, ids.length), 0, rng.pick(sessions).id);
  if (broken === 'other_provider') ids.push(rng.pick(others).id);
  if (broken === 'twice') ids.push(ids[0]!);
  if (broken === 'unknown') ids.push(`svc_${NO_ID}`);
  return { ids, broken };
}

function expectPriceList(head: string, j: JobRef, answer: any[], ids: string[], products: ProductRef[]): void {
  const want = ids.map((id) => {
    const p = products.find((x) => x.id === id)!;
    return { serviceId: id, name: p.name, unitAmount: p.unitAmount };
  });
  if (!isDeepStrictEqual(answer, want)) fail(`${head}: price list ${JSON.stringify(answer)}, expected ${JSON.stringify(want)}`);
  j.products = ids;
}

const PRICE_LIST_REFUSAL: Record<string, [number, string]> = {
  with_slots: [422, 'product_has_slots'],
  other_provider: [422, 'service_of_other_provider'],
  twice: [400, 'parameter_invalid'],
  unknown: [404, 'resource_missing'],
};

export async function createJob(sim: PrepayContext): Promise<void> {
  const rng = sim.rng;
  const now = sim.now.getTime();
  const provider = rng.int(0, sim.providers.length - 1);
  const manualRevision = rng.chance(0.3);
  const deadline = rng.weighted({ none: 50, ahead: 45, past: 5 });
  const broken = deadline === 'past' ? 'none' : rng.weighted({ none: 94, unknown_provider: 3, bad_currency: 3 });
  const list = await priceList(sim, provider, deadline !== 'past' && broken === 'none');
  const body: Record<string, unknown> = {
    name: `Picture day ${sim.jobs.length}`,
    providerId: broken === 'unknown_provider' ? `prv_${NO_ID}` : sim.providers[provider]!.id,
    currency: broken === 'bad_currency' ? 'XXX' : 'USD',
    manualRevision,
    pictureDay: iso(now + rng.int(1, 5) * DAY),
    ...(list.ids.length || rng.chance(0.5) ? { productIds: list.ids } : {}),
  };
  let releaseAt: number | null = null;
  if (deadline === 'ahead') releaseAt = now + rng.int(6, 120) * HOUR + rng.pick([0, 30 * 60_000]);
  if (deadline === 'past') releaseAt = now - rng.int(0, 48) * HOUR;
  if (releaseAt !== null) body.batchReleaseAt = iso(releaseAt);
  const who = rng.chance(0.95) ? 'admin' : 'provider';
  const res = await sim.send('create job', 'POST', '/v1/jobs', body, who === 'admin' ? sim.admin.key : sim.providers[provider]!.key);
  const label = `j${sim.jobs.length}`;
  const wrong = [broken, list.broken].filter((b) => b !== 'none');
  const what = `job (p${provider}${manualRevision ? ', manual revision' : ''}${releaseAt !== null ? `, batch deadline ${rel(releaseAt, sim.now)}` : ''}, ${list.ids.length} product(s)${wrong.length ? `, ${wrong.join(', ')}` : ''}) by ${who}`;
  // (The body's schema is checked before who asks: a bad currency is a 400 for anyone.)
  if (broken === 'bad_currency') expectRefusal(`create ${what}`, res, 400);
  else if (who !== 'admin') expectRefusal(`create ${what}`, res, 403);
  else if (broken === 'unknown_provider') expectRefusal(`create ${what}`, res, 404);
  else if (deadline === 'past') expectRefusal(`create ${what}`, res, 422, 'batch_release_in_past');
  else if (list.broken !== 'none') expectRefusal(`create ${what}`, res, ...PRICE_LIST_REFUSAL[list.broken]!);
  else if (res.status !== 200) fail(`create ${what}: ${outcome(res)} ${res.body?.error?.message ?? ''}`);
  if (res.status !== 200) {
    sim.note(`create ${what} → ${outcome(res)}`);
    return;
  }
  const job = res.body;
  if (job.status !== 'prepay' || job.manualRevision !== manualRevision || job.providerId !== sim.providers[provider]!.id || job.sellingAt !== null) fail(`create ${what}: answered ${JSON.stringify(job)}`);
  if (job.batchReleaseAt !== (releaseAt === null ? null : iso(releaseAt))) fail(`create ${what}: batchReleaseAt ${job.batchReleaseAt}`);
  const j: JobRef = { id: job.id, label, provider, products: [], collections: [job.collectionId], batches: [], subjects: [], photos: [], selling: false };
  expectPriceList(`create ${what}`, j, job.products, list.ids, sim.products);
  sim.jobs.push(j);
  sim.note(`create ${label}: ${what} → ${outcome(res)}`);
  await addSubjects(sim, j, true);
}

async function addSubjects(sim: PrepayContext, j: JobRef, initial = false): Promise<void> {
  const rng = sim.rng;
  const n = initial ? rng.int(3, 7) : rng.int(1, 4);
  const named = j.subjects.filter((x) => x.name !== null);
  const subjects = Array.from({ length: n }, (_, i) => {
    const group = rng.chance(0.7) ? rng.pick(GROUPS) : null;
    // Two students of the same name happen (the list sorts them by name, then by id).
    const name = named.length && rng.chance(0.1) ? rng.pick(named).name! : `${j.label} student ${j.subjects.length + i}`;
    return { name, ...(group ? { groupName: group } : {}) };
  });
  const blankCards = rng.pick([0, 0, 0, 1, 2]);
  const empty = !initial && rng.chance(0.04);
  const who = initial || rng.chance(0.95) ? 'admin' : 'customer';
  const body = empty ? { subjects: [] } : { subjects, ...(blankCards ? { blankCards } : {}) };
  const res = await sim.send('add subjects', 'POST', `/v1/jobs/${j.id}/subjects`, body, who === 'admin' ? sim.admin.key : sim.customers[0]!.key);
  const head = `${j.label} names list +${empty ? 0 : n}${blankCards && !empty ? ` +${blankCards} blank` : ''} by ${who}`;
  sim.note(`${head} → ${outcome(res)}`);
  if (who !== 'admin') return expectRefusal(head, res, 403);
  if (empty) return expectRefusal(head, res, 400, 'parameter_missing');
  if (res.status !== 200) fail(`${head}: ${outcome(res)} ${res.body?.error?.message ?? ''}`);
  const data = res.body.data as any[];
  if (data.length !== n + blankCards) fail(`${head}: ${data.length} subjects came back`);
  const known = new Set(sim.jobs.flatMap((x) => x.subjects.map((s) => s.code)));
  for (const [i, s] of data.entries()) {
    const want = subjects[i] ?? { name: null };
    if (s.name !== want.name || s.groupName !== ((want as { groupName?: string }).groupName ?? null) || s.jobId !== j.id) fail(`${head}: subject ${i} came back as ${JSON.stringify(s)}`);
    if (!CODE_FORMAT.test(s.accessCode)) fail(`${head}: access code ${s.accessCode} is not 8 characters of the alphabet`);
    if (known.has(s.accessCode)) fail(`${head}: access code ${s.accessCode} issued twice`);
    known.add(s.accessCode);
    j.subjects.push({ id: s.id, code: s.accessCode, name: s.name, group: s.groupName });
  }
}

/**
 * Corrects the names list: a name (or blank again), a group; the code stays. A subject of
 * another job or of none is 404, an empty correction 400. Populating follows the group
 * the subject has then; orders already made keep the name on their lines.
 */
async function correctSubject(sim: PrepayContext, j: JobRef): Promise<void> {
  const rng = sim.rng;
  const i = rng.int(0, j.subjects.length - 1);
  const s = j.subjects[i]!;
  const others = sim.jobs.filter((x) => x !== j && x.subjects.length);
  const v = rng.weighted({ name: 35, group: 30, blank: 10, both: 10, empty: 5, unknown: 5, other_job: others.length ? 5 : 0 });
  const body: Record<string, unknown> =
    v === 'name' ? { name: `${j.label} student ${i} (corrected)` }
      : v === 'group' ? { groupName: rng.chance(0.8) ? rng.pick(GROUPS) : null }
        : v === 'blank' ? { name: null }
          : v === 'both' ? { name: `${j.label} student ${i} (moved)`, groupName: rng.pick(GROUPS) }
            : v === 'empty' ? {}
              : { name: 'Nobody' };
  const subjectId = v === 'unknown' ? `sub_${NO_ID}` : v === 'other_job' ? rng.pick(rng.pick(others).subjects).id : s.id;
  const res = await sim.send('correct subject', 'PATCH', `/v1/jobs/${j.id}/subjects/${subjectId}`, body, sim.admin.key);
  const head = `${j.label} correct ${j.label}.s${i} ${v}${'groupName' in body ? ` ${body.groupName}` : ''}`;
  sim.note(`${head} → ${outcome(res)}`);
  if (v === 'empty') return expectRefusal(head, res, 400, 'parameter_missing');
  if (v === 'unknown' || v === 'other_job') return expectRefusal(head, res, 404, 'resource_missing');
  if (res.status !== 200) fail(`${head}: ${outcome(res)} ${res.body?.error?.message ?? ''}`);
  if ('name' in body) s.name = body.name as string | null;
  if ('groupName' in body) s.group = body.groupName as string | null;
  const b = res.body;
  if (b.id !== s.id || b.accessCode !== s.code || b.name !== s.name || b.groupName !== s.group) fail(`${head}: answered ${JSON.stringify(b)}`);
}

/**
 * Uploads photos: for `only` (a subject index) its portrait (sometimes its group's picture
 * too), else portraits for some of the names (not all: absent students) and now and then a
 * group picture. Some uploads are wrong on purpose (a code of no job or of another job, a
 * photo with both a code and a group): all refused, none stored.
 */
export async function uploadPhotos(sim: PrepayContext, j: JobRef, only: number | null, who: Who, customer = 0, provider = 0): Promise<boolean> {
  const rng = sim.rng;
  const photos: { accessCode?: string; groupName?: string; fileName: string }[] = [];
  const name = () => `${j.label}-${j.photos.length + photos.length}.jpg`;
  const subjects = only !== null ? [only] : j.subjects.map((_, i) => i).filter(() => rng.chance(0.6));
  if (subjects.length === 0 && j.subjects.length) subjects.push(rng.int(0, j.subjects.length - 1));
  for (const i of subjects) {
    const s = j.subjects[i]!;
    for (let k = rng.chance(0.15) ? 2 : 1; k > 0; k--) photos.push({ accessCode: typed(rng, s.code), fileName: name() });
    if (only !== null && s.group && rng.chance(0.3)) photos.push({ groupName: s.group, fileName: name() });
  }
  const groups = [...new Set(j.subjects.map((s) => s.group).filter((g): g is string => g !== null))];
  if (only === null && groups.length && rng.chance(0.3)) photos.push({ groupName: rng.pick(groups), fileName: name() });
  const others = sim.jobs.filter((x) => x !== j && x.subjects.length);
  const broken = rng.weighted({ none: 92, unknown_code: 3, other_job: others.length ? 3 : 0, both: 2 });
  if (broken === 'unknown_code') photos.push({ accessCode: UNKNOWN_CODE, fileName: name() });
  if (broken === 'other_job') photos.push({ accessCode: rng.pick(rng.pick(others).subjects).code, fileName: name() });
  if (broken === 'both') photos[0] = { ...photos[0]!, groupName: rng.pick(GROUPS) };
  const key = partyOf(sim, who, customer, provider).key;
  const res = await sim.send('upload photos', 'POST', `/v1/jobs/${j.id}/photos`, { photos }, key);
  const head = `${j.label} upload ${photos.length} photo(s)${only !== null ? ` of ${j.label}.s${only}` : ` for ${subjects.length} name(s)`}${broken !== 'none' ? `, ${broken}` : ''} by ${who}`;
  sim.note(`${head} → ${outcome(res)}`);
  if (who !== 'admin') {
    expectRefusal(head, res, 403);
    return false;
  }
  if (broken === 'both') expectRefusal(head, res, 400, 'parameter_invalid');
  else if (broken !== 'none') expectRefusal(head, res, 422, 'access_code_unknown');
  else if (res.status !== 200) fail(`${head}: ${outcome(res)} ${res.body?.error?.message ?? ''}`);
  if (res.status !== 200) return false;
  const byName = new Map((res.body.data as any[]).map((p) => [p.fileName, p]));
  if (byName.size !== photos.length) fail(`${head}: ${byName.size} photos came back`);
  for (const p of photos) {
    const got = byName.get(p.fileName);
    const code = p.accessCode === undefined ? null : p.accessCode.replace(/[\s-]/g, '').toUpperCase();
    if (!got || got.accessCode !== code || got.groupName !== (p.groupName ?? null) || got.jobId !== j.id) fail(`${head}: ${p.fileName} came back as ${JSON.stringify(got)}`);
    j.photos.push({ id: got.id, fileName: p.fileName });
  }
  return true;
}

/** The seed's fix for "error populating photos": a photo moved to another code (or made a group picture). */
async function retagPhoto(sim: PrepayContext, j: JobRef): Promise<void> {
  const rng = sim.rng;
  const i = rng.int(0, j.photos.length - 1);
  const photo = j.photos[i]!;
  const v = rng.weighted({ code: 70, group: 20, unknown: 5, both: 5 });
  const s = rng.pick(j.subjects);
  const body: Record<string, unknown> =
    v === 'code' ? { accessCode: typed(rng, s.code) } : v === 'group' ? { groupName: rng.pick(GROUPS) } : v === 'unknown' ? { accessCode: UNKNOWN_CODE } : { accessCode: s.code, groupName: rng.pick(GROUPS) };
  // A photo on an order waiting in revision or in a batch stays that order's (409 photo_in_use).
  const inUse = (
    await sql<{ n: number }>`
      select count(*)::int as n from job_orders jo join orders o on o.id = jo.order_id
      where jo.job_id = ${j.id} and o.state in ('revision', 'batch') and jo.photos @> ${JSON.stringify([{ id: photo.id }])}::jsonb`.execute(sim.world.store.db)
  ).rows[0]!.n;
  const res = await sim.send('retag photo', 'PATCH', `/v1/jobs/${j.id}/photos/${photo.id}`, body, sim.admin.key);
  const head = `${j.label} retag photo ${i} → ${v === 'code' ? `${j.label}.s${j.subjects.indexOf(s)}` : v}`;
  sim.note(`${head} → ${outcome(res)}`);
  if (v === 'unknown') return expectRefusal(head, res, 422, 'access_code_unknown');
  if (v === 'both') return expectRefusal(head, res, 400, 'parameter_invalid');
  if (inUse > 0) return expectRefusal(head, res, 409, 'photo_in_use');
  if (res.status !== 200) fail(`${head}: ${outcome(res)}`);
  if (res.body.accessCode !== (v === 'code' ? s.code : null) || res.body.groupName !== (body.groupName ?? null)) fail(`${head}: answered ${JSON.stringify(res.body)}`);
}

/** Changes the job: its batch shipping deadline (ahead, none, or in the past: refused), manual revision, price list, name, Prepay → Selling (and back: refused). */
async function patchJob(sim: PrepayContext, j: JobRef, only?: 'deadline'): Promise<void> {
  const rng = sim.rng;
  const now = sim.now.getTime();
  const v = only ?? rng.weighted({ deadline: 35, no_deadline: 8, past_deadline: 6, manual: 15, products: 10, selling: j.selling ? 3 : 6, back: j.selling ? 6 : 2, name: 5 });
  let at: number | null = null;
  const list = v === 'products' ? await priceList(sim, j.provider, true) : null;
  const body: Record<string, unknown> = list
    ? { productIds: list.ids }
    : v === 'deadline'
      ? { batchReleaseAt: iso((at = now + rng.pick([1, 60, 3600, 6 * 3600, DAY / 1000, 3 * DAY / 1000]) * 1000 + rng.int(0, 3600) * 1000)) }
      : v === 'no_deadline'
        ? { batchReleaseAt: null }
        : v === 'past_deadline'
          ? { batchReleaseAt: iso((at = now - rng.pick([0, 1_000, DAY]))) }
          : v === 'manual'
            ? { manualRevision: rng.chance(0.5) }
            : v === 'selling'
              ? { status: 'selling' }
              : v === 'back'
                ? { status: 'prepay' }
                : { name: `Picture day ${j.label} (renamed ${rng.int(1, 99)})` };
  const before = await jobRow(sim, j.id);
  const res = await sim.send('patch job', 'PATCH', `/v1/jobs/${j.id}`, body, sim.admin.key);
  const head = `${j.label} ${v}${at !== null ? ` ${rel(at, sim.now)}` : ''}${v === 'manual' ? ` ${body.manualRevision}` : ''}${list ? ` ${list.ids.length}${list.broken !== 'none' ? ` ${list.broken}` : ''}` : ''}`;
  sim.note(`${head} → ${outcome(res)}`);
  if (v === 'past_deadline') return expectRefusal(head, res, 422, 'batch_release_in_past');
  if (list && list.broken !== 'none') return expectRefusal(head, res, ...PRICE_LIST_REFUSAL[list.broken]!);
  if (v === 'back' && before.status === 'selling') return expectRefusal(head, res, 409, 'job_already_selling');
  if (res.status !== 200) fail(`${head}: ${outcome(res)} ${res.body?.error?.message ?? ''}`);
  const job = res.body;
  if (v === 'selling' || v === 'back') {
    j.selling = job.status === 'selling';
    if (job.status !== (v === 'selling' || before.status === 'selling' ? 'selling' : 'prepay')) fail(`${head}: status ${job.status}`);
    if ((job.status === 'selling') !== (job.sellingAt !== null)) fail(`${head}: status ${job.status}, sellingAt ${job.sellingAt}`);
  }
  if ('batchReleaseAt' in body && job.batchReleaseAt !== body.batchReleaseAt) fail(`${head}: batchReleaseAt ${job.batchReleaseAt}`);
  if ('manualRevision' in body && job.manualRevision !== body.manualRevision) fail(`${head}: manualRevision ${job.manualRevision}`);
  if (list) expectPriceList(head, j, job.products, list.ids, sim.products);
  else if (!isDeepStrictEqual((job.products as any[]).map((p) => p.serviceId), j.products)) fail(`${head}: the price list changed to ${JSON.stringify(job.products)}`);
}

/** Anyone with the code may look it up (it is what the customer was given); a code of no job is 404. */
async function lookupCode(sim: PrepayContext, j: JobRef): Promise<void> {
  const rng = sim.rng;
  const i = rng.int(0, j.subjects.length - 1);
  const s = j.subjects[i]!;
  const unknown = rng.chance(0.1);
  const key = rng.chance(0.7) ? rng.pick(sim.customers).key : sim.admin.key;
  const res = await sim.get(`/v1/access-codes/${encodeURIComponent(unknown ? UNKNOWN_CODE : typed(rng, s.code).replace(/ /g, ''))}`, key);
  sim.note(`look up ${unknown ? 'an unknown code' : `the code of ${j.label}.s${i}`} → ${outcome(res)}`);
  if (unknown) return expectRefusal('look up an unknown code', res, 404);
  if (res.status !== 200) fail(`look up ${j.label}.s${i}: ${outcome(res)}`);
  const b = res.body;
  if (b.accessCode !== s.code || b.jobId !== j.id || b.subjectName !== s.name || b.status !== (j.selling ? 'selling' : 'prepay') || b.providerId !== sim.providers[j.provider]!.id) fail(`look up ${j.label}.s${i}: ${JSON.stringify(b)}`);
  if (!isDeepStrictEqual((b.products as any[]).map((p) => p.serviceId), j.products)) fail(`look up ${j.label}.s${i}: price list ${JSON.stringify(b.products)}`);
}

/** The job's summary agrees with the database: orders per collection and state, each batch's (not cancelled) orders, counts. */
async function readJob(sim: PrepayContext, j: JobRef): Promise<void> {
  const res = await sim.get(`/v1/jobs/${j.id}`);
  if (res.status !== 200) fail(`read ${j.label}: ${outcome(res)}`);
  const b = res.body;
  const db = sim.world.store.db;
  const counts = await sql<{ collection_id: string; state: string; n: number }>`
    select jo.collection_id, o.state, count(*)::int as n from job_orders jo join orders o on o.id = jo.order_id where jo.job_id = ${j.id} group by 1, 2`.execute(db);
  const collections = new Map((b.collections as any[]).map((c) => [c.id, c]));
  if (collections.size !== j.collections.length || j.collections.some((id) => !collections.has(id))) fail(`read ${j.label}: ${collections.size} collections, the simulation saw ${j.collections.length}`);
  if (collections.get(j.collections[0]!)?.kind !== 'prepay' || j.collections.slice(1).some((id) => collections.get(id)?.kind !== 'without_photos')) fail(`read ${j.label}: collection kinds ${JSON.stringify([...collections.values()].map((c) => c.kind))}`);
  for (const id of j.collections) {
    const want = Object.fromEntries(counts.rows.filter((r) => r.collection_id === id).map((r) => [r.state, r.n]));
    if (!isDeepStrictEqual(collections.get(id).orders, want)) fail(`read ${j.label}: ${collectionLabel(j, id)} counts ${JSON.stringify(collections.get(id).orders)}, the orders say ${JSON.stringify(want)}`);
  }
  const inBatch = await sql<{ batch_id: string; n: number }>`
    select jo.batch_id, count(*)::int as n from job_orders jo join orders o on o.id = jo.order_id
    where jo.job_id = ${j.id} and jo.batch_id is not null and o.state <> 'cancelled' group by 1`.execute(db);
  const batches = b.batches as any[];
  if (batches.length !== j.batches.length || j.batches.some((id) => !batches.some((x) => x.id === id))) fail(`read ${j.label}: ${batches.length} batches, the simulation saw ${j.batches.length}`);
  for (const x of batches) {
    const n = inBatch.rows.find((r) => r.batch_id === x.id)?.n ?? 0;
    if (x.orders !== n) fail(`read ${j.label}: ${batchLabel(j, x.id)} counts ${x.orders} orders, ${n} not cancelled are in it`);
  }
  if (b.subjects !== j.subjects.length || b.photos !== j.photos.length) fail(`read ${j.label}: ${b.subjects} subjects, ${b.photos} photos; the simulation made ${j.subjects.length} and ${j.photos.length}`);
  if (b.status !== (j.selling ? 'selling' : 'prepay')) fail(`read ${j.label}: status ${b.status}`);
  if (!isDeepStrictEqual((b.products as any[]).map((p) => p.serviceId), j.products)) fail(`read ${j.label}: price list ${JSON.stringify(b.products)}`);
  // The job's order list by batch names the same orders.
  if (j.batches.length) {
    const batch = sim.rng.pick(j.batches);
    const list = await sim.get(`/v1/jobs/${j.id}/orders?batchId=${batch}&limit=100`);
    if (list.status !== 200) fail(`list ${batchLabel(j, batch)}: ${outcome(list)}`);
    const want = (await jobOrders(sim, { batchId: batch })).map((o) => o.order_id).sort();
    if (!isDeepStrictEqual(idsOf(list.body.data), want)) fail(`list ${batchLabel(j, batch)}: ${labels(sim, idsOf(list.body.data))}, the database says ${labels(sim, want)}`);
  }
  // The job's orders by state, and the jobs list by status and provider, say the same as the database.
  const states = await sql<{ state: string; ids: string[] }>`
    select o.state, array_agg(o.id order by o.id) as ids from job_orders jo join orders o on o.id = jo.order_id where jo.job_id = ${j.id} group by o.state order by o.state`.execute(db);
  if (states.rows.length) {
    const pick = sim.rng.pick(states.rows);
    const list = await sim.get(`/v1/jobs/${j.id}/orders?state=${pick.state}&limit=100`);
    if (list.status !== 200 || !isDeepStrictEqual(idsOf(list.body.data), [...pick.ids].sort())) fail(`list ${j.label}'s orders in ${pick.state}: ${outcome(list)} ${labels(sim, idsOf(list.body.data ?? []))}, the database says ${labels(sim, pick.ids)}`);
  }
  const status = sim.rng.pick(['prepay', 'selling'] as const);
  const jobsList = await sim.get(`/v1/jobs?status=${status}&providerId=${sim.providers[j.provider]!.id}&limit=100`);
  const wantJobs = sim.jobs.filter((x) => x.provider === j.provider && x.selling === (status === 'selling')).map((x) => x.label).sort();
  const gotJobs = ((jobsList.body.data as any[] | undefined) ?? []).map((x) => sim.labelOf(x.id)).sort();
  if (jobsList.status !== 200 || !isDeepStrictEqual(gotJobs, wantJobs)) fail(`jobs of p${j.provider} in ${status}: ${outcome(jobsList)} ${gotJobs.join(',')}, expected ${wantJobs.join(',')}`);
  if (j.subjects.length) {
    const s = sim.rng.pick(j.subjects);
    const photos = await sim.get(`/v1/jobs/${j.id}/photos?accessCode=${encodeURIComponent(s.code.toLowerCase())}&limit=100`);
    const want = (await jobPhotos(sim, j.id)).filter((p) => p.access_code === s.code).map((p) => p.id);
    if (photos.status !== 200 || !isDeepStrictEqual((photos.body.data as any[]).map((p) => p.id), want)) fail(`photos of ${j.label}.s${j.subjects.indexOf(s)}: ${outcome(photos)}, ${photos.body.data?.length} of ${want.length}`);
  }
  const pages = await walkNamesList(sim, j);
  sim.note(`read ${j.label}: ${j.collections.length} collection(s), ${j.batches.length} batch(es), ${j.subjects.length} names (${pages} page(s)), ${j.photos.length} photos`);
}

/**
 * The names list page by page (a small page size, so that a page often ends between two
 * students of the same name): every subject once, in the order the list promises (by name,
 * blank cards last, then by id), as the database sorts them; a search by an access code
 * finds exactly its subject.
 */
async function walkNamesList(sim: PrepayContext, j: JobRef): Promise<number> {
  const limit = sim.rng.int(1, 3);
  const seen: string[] = [];
  let after: string | null = null;
  let pages = 0;
  for (;;) {
    const res = await sim.get(`/v1/jobs/${j.id}/subjects?limit=${limit}${after ? `&starting_after=${after}` : ''}`);
    if (res.status !== 200) fail(`names list of ${j.label}: ${outcome(res)}`);
    pages++;
    seen.push(...(res.body.data as any[]).map((x) => x.id));
    if (!res.body.has_more) break;
    if (!res.body.data.length || pages > 2 * j.subjects.length + 2) fail(`names list of ${j.label}: page ${pages} of ${limit} has_more without end`);
    after = res.body.data[res.body.data.length - 1].id;
  }
  const r = await sql<{ id: string }>`select id from job_subjects where job_id = ${j.id} order by name is null, name, id`.execute(sim.world.store.db);
  const want = r.rows.map((x) => x.id);
  if (!isDeepStrictEqual(seen, want)) {
    const at = (id: string) => `s${j.subjects.findIndex((x) => x.id === id)}`;
    fail(`names list of ${j.label} in pages of ${limit}: ${seen.map(at).join(',')}, expected ${want.map(at).join(',')}`);
  }
  if (j.subjects.length) {
    const s = sim.rng.pick(j.subjects);
    const found = await sim.get(`/v1/jobs/${j.id}/subjects?q=${encodeURIComponent(typed(sim.rng, s.code).replace(/ /g, ''))}`);
    const ids = (found.body.data as any[] | undefined)?.map((x) => x.id) ?? [];
    // A name may contain the code's letters too, but the code's subject must be there.
    if (found.status !== 200 || !ids.includes(s.id)) fail(`names list of ${j.label}: searching a code found ${ids.length} subject(s), not its own`);
  }
  return pages;
}

// ----- the job's steps for its orders --------------------------------------------------------

/**
 * "Populate photos" on a collection: every order of it in state collection gets the
 * photos of its code and then its group's (none when its code has none); the answer lists
 * exactly those populated and those without; nothing else in the collection changes.
 */
export async function populate(sim: PrepayContext, j: JobRef, collectionId: string, who: Who, on: OrderRef | null): Promise<boolean> {
  const own = j.collections.includes(collectionId);
  const before = await jobOrders(sim, { collectionId });
  const photos = await jobPhotos(sim, j.id);
  const held = before.filter((o) => o.state === 'collection');
  const expected = new Map(held.map((o) => [o.order_id, expectedPhotos(photos, o.code, o.group_name)]));
  const party = partyOf(sim, who, on?.customer ?? 0, on?.provider ?? j.provider);
  const res = await sim.send('populate', 'POST', `/v1/jobs/${j.id}/collections/${collectionId}/populate`, {}, party.key);
  const head = `${on ? `${on.label}: ` : ''}${j.label} populate ${own ? collectionLabel(j, collectionId) : 'a collection of another job'} (${held.length} paid) by ${who}`;
  if (who !== 'admin') {
    sim.note(`${head} → ${outcome(res)}`);
    expectRefusal(head, res, 403);
    return false;
  }
  if (!own) {
    sim.note(`${head} → ${outcome(res)}`);
    expectRefusal(head, res, 404, 'resource_missing');
    return false;
  }
  if (res.status !== 200) fail(`${head}: ${outcome(res)} ${res.body?.error?.message ?? ''}`);
  const withPhotos = [...expected].filter(([, p]) => p.length > 0).map(([id]) => id).sort();
  const without = [...expected].filter(([, p]) => p.length === 0).map(([id]) => id).sort();
  sim.note(`${head} → ${outcome(res)}: with photos ${labels(sim, withPhotos)}, without ${labels(sim, without)}`);
  if (!isDeepStrictEqual(idsOf(res.body.populated), withPhotos) || !isDeepStrictEqual(idsOf(res.body.withoutPhotos), without)) {
    fail(`${head}: answered populated ${labels(sim, idsOf(res.body.populated))}, without ${labels(sim, idsOf(res.body.withoutPhotos))}`);
  }
  for (const p of res.body.populated as any[]) if (p.photos !== expected.get(p.orderId)!.length) fail(`${head}: ${sim.labelOf(p.orderId)} has ${p.photos} photos, expected ${expected.get(p.orderId)!.length}`);
  const after = new Map((await jobOrders(sim, { collectionId })).map((o) => [o.order_id, o]));
  for (const o of before) {
    const a = after.get(o.order_id);
    if (!a || a.state !== o.state) fail(`${head}: ${sim.labelOf(o.order_id)} ${o.state} → ${a?.state ?? 'gone'}`);
    if (expected.has(o.order_id)) {
      if (!isDeepStrictEqual(a!.photos, expected.get(o.order_id))) fail(`${head}: ${sim.labelOf(o.order_id)} got photos ${JSON.stringify(a!.photos)}, expected ${JSON.stringify(expected.get(o.order_id))}`);
      if (a!.populated_at?.getTime() !== sim.now.getTime()) fail(`${head}: ${sim.labelOf(o.order_id)} populated at ${a!.populated_at?.toISOString()}`);
    } else if (!isDeepStrictEqual(a!.photos, o.photos) || a!.populated_at?.getTime() !== o.populated_at?.getTime()) fail(`${head}: ${sim.labelOf(o.order_id)} (${o.state}) was populated too`);
  }
  return true;
}

/**
 * "Place order(s) now": refused (409 photos_not_populated) while an order in state
 * collection was never populated; else those with photos go to the job's open batch (one
 * opened if none, with the job's deadline if that is ahead) or manual revision first, and
 * those without move together to a new collection of their own.
 */
export async function place(sim: PrepayContext, j: JobRef, collectionId: string, who: Who, on: OrderRef | null): Promise<boolean> {
  const own = j.collections.includes(collectionId);
  const before = await jobOrders(sim, { collectionId });
  const job = await jobRow(sim, j.id);
  const openBefore = await openBatchOf(sim, j.id);
  const held = before.filter((o) => o.state === 'collection');
  const party = partyOf(sim, who, on?.customer ?? 0, on?.provider ?? j.provider);
  const res = await sim.send('place', 'POST', `/v1/jobs/${j.id}/collections/${collectionId}/place`, {}, party.key);
  const head = `${on ? `${on.label}: ` : ''}${j.label} place ${own ? collectionLabel(j, collectionId) : 'a collection of another job'} (${held.length} paid${job.manual_revision ? ', manual revision' : ''}) by ${who}`;
  if (who !== 'admin') {
    sim.note(`${head} → ${outcome(res)}`);
    expectRefusal(head, res, 403);
    return false;
  }
  if (!own) {
    sim.note(`${head} → ${outcome(res)}`);
    expectRefusal(head, res, 404, 'resource_missing');
    return false;
  }
  const notPopulated = held.filter((o) => o.populated_at === null);
  if (notPopulated.length) {
    sim.note(`${head} → ${outcome(res)} (${labels(sim, notPopulated.map((o) => o.order_id))} not populated)`);
    expectRefusal(head, res, 409, 'photos_not_populated');
    return false;
  }
  if (res.status !== 200) fail(`${head}: ${outcome(res)} ${res.body?.error?.message ?? ''}`);
  const b = res.body;
  const toBatch = held.filter((o) => o.photos.length && !job.manual_revision).map((o) => o.order_id).sort();
  const toRevision = held.filter((o) => o.photos.length && job.manual_revision).map((o) => o.order_id).sort();
  const without = held.filter((o) => !o.photos.length).map((o) => o.order_id).sort();
  if (!isDeepStrictEqual(idsOf(b.placed), toBatch) || !isDeepStrictEqual(idsOf(b.toRevision), toRevision) || !isDeepStrictEqual(idsOf(b.withoutPhotos), without)) {
    fail(`${head}: answered placed ${labels(sim, idsOf(b.placed))}, revision ${labels(sim, idsOf(b.toRevision))}, without ${labels(sim, idsOf(b.withoutPhotos))}; expected ${labels(sim, toBatch)}, ${labels(sim, toRevision)}, ${labels(sim, without)}`);
  }
  // The batch: the open one, else a new one (its deadline the job's if that is still ahead); none when nothing went to it.
  if (toBatch.length === 0 && b.batchId !== null) fail(`${head}: nothing placed but batchId ${b.batchId}`);
  if (toBatch.length && openBefore && b.batchId !== openBefore) fail(`${head}: placed into ${b.batchId}, the open batch was ${batchLabel(j, openBefore)}`);
  if (toBatch.length && !openBefore) {
    if (j.batches.includes(b.batchId)) fail(`${head}: a new batch expected, got ${batchLabel(j, b.batchId)}`);
    j.batches.push(b.batchId);
    const r = await sql<any>`select job_id, status, release_at from job_batches where id = ${b.batchId}`.execute(sim.world.store.db);
    const want = job.batch_release_at && job.batch_release_at.getTime() > sim.now.getTime() ? job.batch_release_at.getTime() : null;
    const row = r.rows[0];
    if (!row || row.job_id !== j.id || row.status !== 'open' || (row.release_at?.getTime() ?? null) !== want) fail(`${head}: new batch ${JSON.stringify(row)}, release_at expected ${want === null ? null : iso(want)}`);
  }
  // Only the job's own collection splits: a collection already split off keeps its orders still without photos.
  const kind = (await sql<{ kind: string }>`select kind from job_collections where id = ${collectionId}`.execute(sim.world.store.db)).rows[0]?.kind;
  const splits = without.length > 0 && kind === 'prepay';
  if (!splits && b.splitCollectionId !== null) fail(`${head}: nothing split off but splitCollectionId ${b.splitCollectionId}`);
  if (splits) {
    if (!b.splitCollectionId || j.collections.includes(b.splitCollectionId)) fail(`${head}: orders without photos need a new collection, got ${b.splitCollectionId}`);
    j.collections.push(b.splitCollectionId);
  }
  const after = new Map((await Promise.all([jobOrders(sim, { collectionId }), ...(splits ? [jobOrders(sim, { collectionId: b.splitCollectionId })] : [])])).flat().map((o) => [o.order_id, o]));
  for (const o of before) {
    const a = after.get(o.order_id)!;
    const want =
      o.state !== 'collection'
        ? { state: o.state, collection: collectionId, batch: o.batch_id }
        : !o.photos.length
          ? { state: 'collection', collection: splits ? b.splitCollectionId : collectionId, batch: null }
          : job.manual_revision
            ? { state: 'revision', collection: collectionId, batch: null }
            : { state: 'batch', collection: collectionId, batch: b.batchId };
    if (!a || a.state !== want.state || a.collection_id !== want.collection || a.batch_id !== want.batch) {
      fail(`${head}: ${sim.labelOf(o.order_id)} is ${a?.state} in ${collectionLabel(j, a?.collection_id ?? null)}/${batchLabel(j, a?.batch_id ?? null)}, expected ${want.state} in ${collectionLabel(j, want.collection)}/${batchLabel(j, want.batch)}`);
    }
  }
  sim.note(
    `${head} → ${outcome(res)}: ${toBatch.length} to ${batchLabel(j, b.batchId)}${toBatch.length && !openBefore ? ' (new)' : ''}, ${toRevision.length} to revision, ${without.length} without photos${splits ? ` → ${collectionLabel(j, b.splitCollectionId)}` : without.length ? ' (stay)' : ''}`,
  );
  return true;
}

/** Sends a batch to production by hand: every order in state batch in it moves on; 409 batch_released / batch_empty. */
export async function releaseBatch(sim: PrepayContext, j: JobRef, batchId: string, who: Who, on: OrderRef | null, viaJob: JobRef = j): Promise<boolean> {
  const r = await sql<any>`select job_id, status from job_batches where id = ${batchId}`.execute(sim.world.store.db);
  const batch = r.rows[0];
  const inBatch = (await jobOrders(sim, { batchId })).filter((o) => o.state === 'batch');
  const party = partyOf(sim, who, on?.customer ?? 0, on?.provider ?? j.provider);
  const res = await sim.send('release batch', 'POST', `/v1/jobs/${viaJob.id}/batches/${batchId}/release`, {}, party.key);
  const head = `${on ? `${on.label}: ` : ''}${viaJob.label} release ${batchLabel(j, batchId)}${viaJob !== j ? ' (of another job)' : ''} (${batch?.status}, ${inBatch.length} in it) by ${who}`;
  sim.note(`${head} → ${outcome(res)}`);
  if (who !== 'admin') return (expectRefusal(head, res, 403), false);
  if (viaJob !== j) return (expectRefusal(head, res, 404, 'resource_missing'), false);
  if (batch.status === 'released') return (expectRefusal(head, res, 409, 'batch_released'), false);
  if (inBatch.length === 0) return (expectRefusal(head, res, 409, 'batch_empty'), false);
  if (res.status !== 200) fail(`${head}: ${outcome(res)} ${res.body?.error?.message ?? ''}`);
  const want = inBatch.map((o) => o.order_id).sort();
  if (!isDeepStrictEqual(idsOf(res.body.orders), want)) fail(`${head}: answered ${labels(sim, idsOf(res.body.orders))}, expected ${labels(sim, want)}`);
  if (res.body.releasedAt !== iso(sim.now.getTime())) fail(`${head}: released at ${res.body.releasedAt}`);
  const after = await jobOrders(sim, { batchId });
  for (const o of after) {
    const was = inBatch.find((x) => x.order_id === o.order_id);
    if (was && o.state !== 'production') fail(`${head}: ${sim.labelOf(o.order_id)} is ${o.state} after the release`);
  }
  const b2 = await sql<any>`select status, released_at from job_batches where id = ${batchId}`.execute(sim.world.store.db);
  if (b2.rows[0].status !== 'released' || b2.rows[0].released_at.getTime() !== sim.now.getTime()) fail(`${head}: batch ${JSON.stringify(b2.rows[0])}`);
  return true;
}

/**
 * Manual revision: the order's photos replaced by these (any photos of the job, in the
 * given order). Only before placing or in revision (409 invalid_state); a photo of
 * another job or of none is refused (422 photo_unknown).
 */
async function setPhotos(sim: PrepayContext, j: JobRef, ref: OrderRef, row: HeldRow, who: Who): Promise<boolean> {
  const rng = sim.rng;
  const photos = await jobPhotos(sim, j.id);
  const subject = j.subjects[ref.subject!]!;
  const mine = photos.filter((p) => p.access_code === subject.code).map((p) => p.id);
  const others = sim.jobs.filter((x) => x !== j && x.photos.length);
  const v = rng.weighted({ own: mine.length ? 60 : 0, any: photos.length ? 30 : 0, other_job: others.length ? 4 : 0, none: 4 });
  const ids = v === 'own' ? rng.subset(mine) : v === 'any' ? rng.subset(photos.map((p) => p.id)) : v === 'other_job' ? [rng.pick(rng.pick(others).photos).id] : [`pho_${NO_ID}`];
  if (v !== 'own' && v !== 'any' && photos.length && rng.chance(0.5)) ids.unshift(rng.pick(photos).id);
  const party = partyOf(sim, who, ref.customer, ref.provider);
  const res = await sim.send('set photos', 'POST', `/v1/jobs/${j.id}/orders/${ref.id}/photos`, { photoIds: ids }, party.key);
  const head = `${ref.label}[${row.state}] set ${ids.length} photo(s) (${v}) by ${who}`;
  sim.note(`${head} → ${outcome(res)}`);
  if (who !== 'admin') return (expectRefusal(head, res, 403), false);
  if (row.state !== 'collection' && row.state !== 'revision') return (expectRefusal(head, res, 409, 'invalid_state'), false);
  if (v === 'other_job' || v === 'none') return (expectRefusal(head, res, 422, 'photo_unknown'), false);
  if (res.status !== 200) fail(`${head}: ${outcome(res)} ${res.body?.error?.message ?? ''}`);
  const [after] = await jobOrders(sim, { orderId: ref.id });
  if (!isDeepStrictEqual(after!.photos, ids) || after!.populated_at?.getTime() !== sim.now.getTime() || after!.state !== row.state) fail(`${head}: now ${JSON.stringify(after)}`);
  await sameAsRead(sim, head, ref, res.body);
  return true;
}

/** Manual revision done: the order joins the job's open batch (one opened if none). */
async function releaseRevision(sim: PrepayContext, j: JobRef, ref: OrderRef, row: HeldRow, who: Who): Promise<boolean> {
  const openBefore = await openBatchOf(sim, j.id);
  const party = partyOf(sim, who, ref.customer, ref.provider);
  const res = await sim.send('release revision', 'POST', `/v1/jobs/${j.id}/orders/${ref.id}/release`, {}, party.key);
  const head = `${ref.label}[${row.state}] release from revision by ${who}`;
  sim.note(`${head} → ${outcome(res)}`);
  if (who !== 'admin') return (expectRefusal(head, res, 403), false);
  if (row.photos.length === 0) return (expectRefusal(head, res, 422, 'order_without_photos'), false);
  if (row.state !== 'revision') return (expectRefusal(head, res, 409), false);
  if (res.status !== 200) fail(`${head}: ${outcome(res)} ${res.body?.error?.message ?? ''}`);
  const batchId = res.body.batchId as string;
  if (res.body.order.state !== 'batch') fail(`${head}: state ${res.body.order.state}`);
  if (openBefore && batchId !== openBefore) fail(`${head}: released into ${batchId}, the open batch was ${batchLabel(j, openBefore)}`);
  if (!openBefore) {
    if (j.batches.includes(batchId)) fail(`${head}: a new batch expected, got ${batchLabel(j, batchId)}`);
    j.batches.push(batchId);
  }
  await sameAsRead(sim, head, ref, res.body);
  return true;
}

/** A job order answer equals the order's job view read right after it. */
async function sameAsRead(sim: PrepayContext, head: string, ref: OrderRef, answer: any): Promise<void> {
  const read = await sim.get(`/v1/orders/${ref.id}/job`);
  if (read.status !== 200) fail(`${head}: GET its job view: ${outcome(read)}`);
  if (!isDeepStrictEqual(read.body, answer)) fail(`${head}: the answer differs from the job view read after it\n${firstDifference(answer, read.body)}`);
}

/**
 * A job step taken on a prepay order (the simulation's focus on one order takes it the
 * whole way): upload its portrait, populate or place its collection (sometimes another
 * of the job's, or through another job: 404), set its photos, release it from revision,
 * release its batch (or the job's open one). Returns whether it succeeded.
 */
export async function prepayJobAction(sim: PrepayContext, action: JobAction, who: Who, ref: OrderRef): Promise<boolean> {
  const rng = sim.rng;
  const j = sim.jobs[ref.job!]!;
  const [row] = await jobOrders(sim, { orderId: ref.id });
  if (!row) fail(`${ref.label}: no job order row`);
  switch (action) {
    case 'upload':
      return uploadPhotos(sim, j, ref.subject!, who, ref.customer, ref.provider);
    case 'populate':
    case 'place': {
      const other = sim.jobs.filter((x) => x !== j);
      // Now and then another collection of the job, or (wrongly) a collection of another job.
      const collection = rng.chance(0.9) ? row!.collection_id : other.length && rng.chance(0.3) ? rng.pick(rng.pick(other).collections) : rng.pick(j.collections);
      return action === 'populate' ? populate(sim, j, collection, who, ref) : place(sim, j, collection, who, ref);
    }
    case 'set_photos':
      return setPhotos(sim, j, ref, row!, who);
    case 'batch_deadline':
      // Staff set (or move) the job's batch shipping deadline: it moves the open batch's too.
      sim.subNotes.push(`for ${ref.label}[${row!.state}]`);
      await patchJob(sim, j, 'deadline');
      return false;
    case 'release_revision':
      return releaseRevision(sim, j, ref, row!, who);
    case 'release_batch': {
      const open = await openBatchOf(sim, j.id);
      const batch = row!.batch_id && rng.chance(0.85) ? row!.batch_id : open ?? (j.batches.length ? rng.pick(j.batches) : null);
      if (!batch) {
        sim.note(`${ref.label}[${row!.state}] release its batch: ${j.label} has none yet`);
        return false;
      }
      const via = sim.jobs.length > 1 && rng.chance(0.05) ? sim.jobs.find((x) => x !== j)! : j;
      return releaseBatch(sim, j, batch, who, ref, via);
    }
  }
}

// ----- pre-orders and the order-route transitions of prepay orders -----------------------------

/**
 * A pre-order: a customer for themselves with the code on the QR card (typed any way),
 * from the job's price list; staff for a paper order (products, or lines of their own),
 * sometimes naming a blank card as the paper form does. Wrong ones must be refused: a code
 * of no job (404), a job that sells already (409 job_not_prepay), a line with a time or a
 * slot (400: products, not sessions), a customer's line not from the price list (422
 * not_on_price_list), renaming a named card (409 subject_named), a customer ordering for
 * someone else.
 */
export async function createPreOrder(sim: PrepayContext): Promise<void> {
  const rng = sim.rng;
  const usable = sim.jobs.filter((j) => j.subjects.length);
  if (!usable.length) return jobStep(sim);
  const open = usable.filter((j) => !j.selling && j.products.length);
  if (!open.length && rng.chance(0.5)) return createJob(sim);
  const j = open.length && rng.chance(0.9) ? (rng.chance(0.5) ? open[open.length - 1]! : rng.pick(open)) : rng.pick(usable);
  const jobIndex = sim.jobs.indexOf(j);
  const subject = rng.int(0, j.subjects.length - 1);
  const s = j.subjects[subject]!;
  const customer = rng.int(0, sim.customers.length - 1);
  const who = rng.weighted({ customer: 75, admin: 20, provider: 2, other_customer: sim.customers.length > 1 ? 3 : 0 });
  const staff = who === 'admin';
  // Products of the price list ({serviceId, quantity}); staff also write lines of their own.
  const lines: Record<string, unknown>[] = [];
  const own = staff && (j.products.length === 0 || rng.chance(0.4));
  for (let i = Number(rng.weighted({ 1: 55, 2: 35, 3: 10 })); i > 0; i--) {
    const quantity = rng.chance(0.85) ? 1 : rng.int(2, 3);
    if (own || j.products.length === 0) {
      const p = rng.pick(PRODUCTS);
      lines.push({ description: p.description, quantity, unitAmount: p.unitAmount });
    } else lines.push({ serviceId: rng.pick(j.products), quantity });
    if (rng.chance(0.05)) lines[lines.length - 1]!.participantName = 'Sibling';
  }
  const unlisted = sim.products.filter((p) => p.provider === j.provider && !j.products.includes(p.id));
  const broken = rng.weighted({
    none: 84, unknown_code: 3, timed: 3, slot: 2, no_lines: 2,
    negative: staff ? 2 : 0, own_line: staff ? 0 : 3, unlisted: !staff && unlisted.length ? 2 : 0, priced: !staff && j.products.length ? 2 : 0,
  });
  if (broken === 'timed') lines[0] = { ...lines[0], startsAt: iso(sim.now.getTime() + DAY) };
  if (broken === 'slot') lines[0] = { slotId: `slot_${NO_ID}`, quantity: 1 };
  if (broken === 'negative') lines[0] = { description: 'Discount', quantity: 1, unitAmount: -500 };
  if (broken === 'no_lines') lines.length = 0;
  if (broken === 'own_line') lines[0] = { description: 'Package A', quantity: 1, unitAmount: 1 };
  if (broken === 'unlisted') lines[0] = { serviceId: rng.pick(unlisted).id, quantity: 1 };
  if (broken === 'priced') lines[0] = { serviceId: rng.pick(j.products), quantity: 1, unitAmount: 1 };
  // A paper order on a blank card names it; naming a named card otherwise is refused.
  const naming = s.name === null ? rng.chance(staff ? 0.7 : 0.3) : rng.chance(0.04);
  const rename = naming && s.name !== null && rng.chance(0.7);
  const subjectName = naming ? (rename ? `${s.name} (renamed)` : (s.name ?? `${j.label} paper ${subject}`)) : undefined;
  const party = staff ? sim.admin : who === 'provider' ? sim.providers[j.provider]! : who === 'other_customer' ? sim.customers[(customer + 1) % sim.customers.length]! : sim.customers[customer]!;
  const body = { accessCode: broken === 'unknown_code' ? UNKNOWN_CODE : typed(rng, s.code), customerId: sim.customers[customer]!.id, lines, ...(subjectName ? { subjectName } : {}), ...(rng.chance(0.1) ? { comment: 'Please retouch' } : {}) };
  const res = await sim.send('pre-order', 'POST', '/v1/pre-orders', body, party.key);
  const label = `o${sim.orders.length}`;
  const shape = lines.map((l) => (l.serviceId ? `pr${sim.products.findIndex((p) => p.id === l.serviceId)}` : 'own')).join('+');
  const what = `pre-order (c${customer} for ${j.label}.s${subject}${s.name === null ? ' blank card' : ''}${subjectName ? (rename ? ', renaming it' : ', naming it') : ''}${j.selling ? ', job selling' : ''}, ${shape || 'no lines'}${broken !== 'none' ? `, ${broken}` : ''}) by ${who}`;
  if (res.status !== 200) {
    sim.note(`create ${what} → ${outcome(res)}`);
    if (broken === 'none' && (who === 'customer' || staff)) {
      if (j.selling) expectRefusal(what, res, 409, 'job_not_prepay');
      else if (!staff && !j.products.length) expectRefusal(what, res, 422, 'not_on_price_list');
      else if (rename) expectRefusal(what, res, 409, 'subject_named');
      else fail(`${what} refused: ${outcome(res)} ${res.body?.error?.message ?? ''}`);
    }
    if (broken === 'unknown_code' && res.status !== 404 && res.status !== 400) fail(`${what}: expected 404, got ${outcome(res)}`);
    if (['own_line', 'unlisted', 'priced'].includes(broken) && !j.selling && who === 'customer') expectRefusal(what, res, 422, 'not_on_price_list');
    return;
  }
  if (broken !== 'none' || who === 'other_customer' || who === 'provider' || j.selling || rename || (!staff && !j.products.length)) fail(`${what} was accepted`);
  const name = subjectName ?? s.name;
  if (s.name === null && subjectName) s.name = subjectName;
  const b = res.body;
  const o = b.order;
  const ref: OrderRef = { id: o.id, label, customer, provider: j.provider, process: 'prepay', job: jobIndex, subject };
  if (b.jobId !== j.id || b.collectionId !== j.collections[0] || b.batchId !== null || b.photos.length !== 0 || b.populatedAt !== null) fail(`${what}: job order ${JSON.stringify({ ...b, order: undefined })}`);
  if (b.subject.id !== s.id || b.subject.accessCode !== s.code || b.subject.name !== name || b.subject.groupName !== s.group) fail(`${what}: subject ${JSON.stringify(b.subject)}`);
  if (o.process !== 'prepay' || o.customerId !== sim.customers[customer]!.id || o.providerId !== sim.providers[j.provider]!.id || o.currency !== 'USD') fail(`${what}: order ${o.process} ${o.customerId} ${o.providerId} ${o.currency}`);
  const expected = o.amounts.total === 0 ? 'collection' : 'payment';
  if (o.state !== expected) fail(`${what}: total ${o.amounts.total} but state ${o.state}`);
  for (const [i, l] of (o.lines as any[]).entries()) {
    const asked = lines[i]!;
    if (l.startsAt !== null || l.slotId !== null || l.status !== 'open') fail(`${what}: line ${i} ${JSON.stringify(l)}`);
    if (l.participantName !== ((asked.participantName as string | undefined) ?? name)) fail(`${what}: line ${i} for ${l.participantName}, the subject is ${name}`);
    // A product is sold at its price-list price.
    const product = sim.products.find((p) => p.id === asked.serviceId);
    const unit = product ? product.unitAmount : (asked.unitAmount as number);
    if (l.unitAmount !== unit || l.amount !== unit * (asked.quantity as number)) fail(`${what}: line ${i} ${l.quantity} × ${l.unitAmount} = ${l.amount}, expected ${asked.quantity} × ${unit}`);
  }
  sim.orders.push(ref);
  sim.orderIndex.set(ref.id, sim.orders.length - 1);
  sim.note(`create ${label} ${what} → ${outcome({ ...res, body: o })} total ${o.amounts.total}`);
  // The answer's order is the order read right after, and so is the job view.
  const read = await sim.get(`/v1/orders/${o.id}`);
  if (!isDeepStrictEqual(read.body, o)) fail(`${what}: the answer differs from the order read after it\n${firstDifference(o, read.body)}`);
  await sameAsRead(sim, what, ref, b);
}

/** Where a prepay order is in its job, before an order-route transition (which must leave it there). */
export async function placeOf(sim: PrepayContext, ref: OrderRef): Promise<HeldRow> {
  const [row] = await jobOrders(sim, { orderId: ref.id });
  if (!row) fail(`${ref.label}: no job order row`);
  return row!;
}

/**
 * Checks for an order-route transition of a prepay order: the answer's state, the money,
 * and that the order stays where it is in its job (a cancelled order stays in its
 * collection or batch: still found, left out of the batch's release).
 */
export async function afterPrepayTransition(
  sim: PrepayContext,
  action: ActionName,
  who: Who,
  ref: OrderRef,
  before: any,
  res: Res,
  request: { body: Record<string, unknown> },
  head: string,
  place: HeldRow,
  creditBefore: number | null,
  creditNow: () => Promise<number>,
): Promise<void> {
  const whole = !(Array.isArray(request.body.lineIds) && (request.body.lineIds as unknown[]).length);
  const cancelling = action === 'cancel' || action === 'quote_then_cancel' || action === 'cancel_lines';
  // Staff cancel in every state before production, whole orders only (there is no cancelling lines).
  if (cancelling && whole && (who === 'admin' || who === 'provider') && ['payment', 'collection', 'revision', 'batch'].includes(before.state) && res.status !== 200) {
    fail(`${head}: staff could not cancel before production: ${outcome(res)} ${res.body?.error?.message ?? ''}`);
  }
  if (cancelling && res.status === 200 && (!whole || who === 'customer')) fail(`${head}: ${whole ? 'a customer cancelled' : 'lines cancelled'}`);
  if (cancelling && res.status === 200 && !['payment', 'collection', 'revision', 'batch'].includes(before.state)) fail(`${head}: cancelled in ${before.state}`);
  if (action === 'confirm_execution' && who === 'customer' && before.state === 'production' && res.status !== 200) fail(`${head}: the customer could not confirm receipt: ${outcome(res)}`);
  if (res.status !== 200) return;
  const after = res.body;
  const now = await placeOf(sim, ref);
  if (now.collection_id !== place.collection_id || now.batch_id !== place.batch_id || !isDeepStrictEqual(now.photos, place.photos)) {
    fail(`${head}: the order moved in its job: ${JSON.stringify(place)} → ${JSON.stringify(now)}`);
  }
  if (after?.object !== 'order') return;
  const lines = after.lines as any[];
  switch (action) {
    case 'pay':
      if (after.state !== 'collection') fail(`${head}: paid but state ${after.state}`);
      break;
    case 'cancel':
    case 'quote_then_cancel': {
      if (after.state !== 'cancelled' || lines.some((l) => l.status !== 'cancelled')) fail(`${head}: ${after.state}, lines ${lines.map((l) => l.status).join(',')}`);
      // Staff refund every line in full (within what the order still holds) and the fee
      // as the order's policies say; the provider always returns the fee.
      const held = before.amounts.paid - before.amounts.refunded;
      const owed = (before.lines as any[]).reduce((s, l) => s + (l.amount - l.refunded), 0);
      const fee = before.amounts.serviceFee;
      const feeBack = who === 'provider' || before.policies.refundServiceFeeOnCancellation ? Math.max(0, Math.min(fee, held - owed)) : 0;
      const want = before.amounts.paid === 0 ? 0 : Math.min(held, owed + feeBack);
      const refunded = after.amounts.refunded - before.amounts.refunded;
      if (refunded !== want) fail(`${head}: refunded ${refunded}, expected ${want} (held ${held}, lines ${owed}, fee ${fee}, refundServiceFeeOnCancellation ${before.policies.refundServiceFeeOnCancellation})`);
      const destination = (request.body.refundDestination as string | undefined) ?? before.policies.defaultRefundDestination;
      if (creditBefore !== null && destination === 'account_credit') {
        const arrived = (await creditNow()) - creditBefore;
        if (arrived !== refunded) fail(`${head}: refunded ${refunded} to account credit but the balance moved by ${arrived}`);
      }
      break;
    }
    case 'confirm_execution':
      if (after.state !== 'closed' || lines.some((l) => l.status !== 'done')) fail(`${head}: ${after.state}, lines ${lines.map((l) => l.status).join(',')}`);
      break;
    case 'claim':
      if (after.state !== 'claim') fail(`${head}: claim opened but state ${after.state}`);
      break;
    case 'refund':
    case 'refund_to_card':
      if (after.state !== before.state) fail(`${head}: a refund moved the order ${before.state} → ${after.state}`);
      break;
    default:
      break;
  }
}
