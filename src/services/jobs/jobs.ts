// Prepay jobs (seed 002), the job itself: create and change it (manual revision, batch
// shipping deadline, Prepay → Selling), its names list with an access code per name (and
// blank cards for paper orders), and the photos uploaded under those codes. What happens
// to the job's orders is in job-orders.ts.
import { sql } from 'kysely';
import type { Db, Trx } from '../../store/db.js';
import { badRequest, conflict, notFound, ruleRefused } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import { isCurrency } from '../../domain/currencies.js';
import type { Services } from '../context.js';
import { toPage, type Page, type PageRequest } from '../pagination.js';
import { newAccessCode, normalizeAccessCode } from './access-codes.js';
import { jobView, photoView, subjectView, type JobProduct, type JobSummaryView, type JobView, type PhotoView, type SubjectView } from './views.js';

export const MAX_SUBJECTS_PER_CALL = 1_000;
export const MAX_PHOTOS_PER_CALL = 1_000;
export const MAX_PRODUCTS = 100;

export interface CreateJobInput {
  name: string;
  providerId: string;
  currency: string;
  manualRevision?: boolean | undefined;
  batchReleaseAt?: string | null | undefined;
  pictureDay?: string | null | undefined;
  /** The price list: services of the job's provider, without slots, in the job's currency. */
  productIds?: string[] | undefined;
}

export interface UpdateJobInput {
  name?: string | undefined;
  manualRevision?: boolean | undefined;
  batchReleaseAt?: string | null | undefined;
  pictureDay?: string | null | undefined;
  status?: 'prepay' | 'selling' | undefined;
  /** Replaces the price list (orders already placed keep their lines). */
  productIds?: string[] | undefined;
}

function parseTime(value: string, param: string): Date {
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) throw badRequest('parameter_invalid', `${param} is not a time.`, { param });
  return at;
}

/** A batch shipping deadline must be ahead: a past one would release batches back-dated (there is a release button for now). */
function releaseTime(value: string, now: Date): Date {
  const at = parseTime(value, 'batchReleaseAt');
  if (at.getTime() <= now.getTime()) throw ruleRefused('batch_release_in_past', `The batch shipping deadline ${at.toISOString()} is not ahead of now (${now.toISOString()}); release the batch by hand instead.`, { param: 'batchReleaseAt' });
  return at;
}

export class JobService {
  constructor(private readonly s: Services) {}

  async create(trx: Trx, input: CreateJobInput): Promise<JobView> {
    if (!isCurrency(input.currency)) throw badRequest('parameter_invalid', `Unknown currency '${input.currency}'.`, { param: 'currency' });
    const provider = await trx.selectFrom('providers').select('id').where('id', '=', input.providerId).executeTakeFirst();
    if (!provider) throw notFound('provider', input.providerId);
    const now = this.s.clock.now();
    const row = {
      id: newId('job'),
      name: input.name,
      provider_id: input.providerId,
      currency: input.currency,
      status: 'prepay' as const,
      manual_revision: input.manualRevision ?? false,
      batch_release_at: input.batchReleaseAt ? releaseTime(input.batchReleaseAt, now) : null,
      picture_day: input.pictureDay ? parseTime(input.pictureDay, 'pictureDay') : null,
      selling_at: null,
      created_at: now,
      updated_at: now,
    };
    await trx.insertInto('jobs').values(row).execute();
    const collectionId = newId('collection');
    await trx.insertInto('job_collections').values({ id: collectionId, job_id: row.id, kind: 'prepay', name: `${input.name} – prepay orders`, created_at: now }).execute();
    const products = await this.setProducts(trx, row, input.productIds ?? []);
    return jobView(row, collectionId, products);
  }

  /** The job's price list, in the order it is offered. */
  async products(db: Db | Trx, jobId: string): Promise<JobProduct[]> {
    return (await this.productsOf(db, [jobId])).get(jobId) ?? [];
  }

  /** The price lists of several jobs in one read (a page of jobs). */
  private async productsOf(db: Db | Trx, jobIds: string[]): Promise<Map<string, JobProduct[]>> {
    const out = new Map<string, JobProduct[]>();
    if (jobIds.length === 0) return out;
    const rows = await db
      .selectFrom('job_products as p')
      .innerJoin('services as s', 's.id', 'p.service_id')
      .select(['p.job_id', 's.id', 's.name', 's.unit_amount'])
      .where('p.job_id', 'in', jobIds)
      .orderBy('p.job_id')
      .orderBy('p.position')
      .execute();
    for (const r of rows) {
      const list = out.get(r.job_id) ?? [];
      list.push({ serviceId: r.id, name: r.name, unitAmount: Number(r.unit_amount) });
      out.set(r.job_id, list);
    }
    return out;
  }

  /** Replaces the price list; each product must be the provider's, in the job's currency, and not a session (no slots). */
  private async setProducts(trx: Trx, job: { id: string; provider_id: string; currency: string }, serviceIds: string[]): Promise<JobProduct[]> {
    if (serviceIds.length > MAX_PRODUCTS) throw badRequest('parameter_invalid', `At most ${MAX_PRODUCTS} products.`, { param: 'productIds' });
    if (new Set(serviceIds).size !== serviceIds.length) throw badRequest('parameter_invalid', 'A product is listed twice.', { param: 'productIds' });
    await trx.deleteFrom('job_products').where('job_id', '=', job.id).execute();
    if (serviceIds.length === 0) return [];
    const services = await trx
      .selectFrom('services as s')
      .select(['s.id', 's.provider_id', 's.currency', (eb) => eb.exists(eb.selectFrom('slots').select('slots.id').whereRef('slots.service_id', '=', 's.id')).as('has_slots')])
      .where('s.id', 'in', serviceIds)
      .execute();
    const byId = new Map(services.map((x) => [x.id, x]));
    for (const [i, id] of serviceIds.entries()) {
      const service = byId.get(id);
      const param = `productIds.${i}`;
      if (!service) throw notFound('service', id);
      if (service.provider_id !== job.provider_id) throw ruleRefused('service_of_other_provider', `Service ${id} is sold by another provider.`, { param });
      if (service.currency !== job.currency) throw ruleRefused('currency_mismatch', `Service ${id} is priced in ${service.currency}, the job in ${job.currency}.`, { param });
      if (service.has_slots) throw ruleRefused('product_has_slots', `Service ${id} is a session with slots, not a product.`, { param });
    }
    await trx.insertInto('job_products').values(serviceIds.map((service_id, position) => ({ job_id: job.id, service_id, position }))).execute();
    return this.products(trx, job.id);
  }

  /** The job row, locked for the rest of the transaction when `lock` (every change of the job's orders takes it). */
  async load(db: Db | Trx, id: string, lock: 'update' | 'share' | false = false) {
    let q = db.selectFrom('jobs').selectAll().where('id', '=', id);
    if (lock === 'update') q = q.forUpdate();
    if (lock === 'share') q = q.forShare();
    const row = await q.executeTakeFirst();
    if (!row) throw notFound('job', id);
    return row;
  }

  async prepayCollectionId(db: Db | Trx, jobId: string): Promise<string> {
    const row = await db.selectFrom('job_collections').select('id').where('job_id', '=', jobId).where('kind', '=', 'prepay').executeTakeFirstOrThrow();
    return row.id;
  }

  async get(db: Db | Trx, id: string): Promise<JobSummaryView> {
    const job = await this.load(db, id);
    const collections = await db.selectFrom('job_collections').selectAll().where('job_id', '=', id).orderBy('created_at').orderBy('id').execute();
    const counts = await sql<{ collection_id: string; state: string; n: number }>`
      select jo.collection_id, o.state, count(*)::int as n
      from job_orders jo join orders o on o.id = jo.order_id
      where jo.job_id = ${id} group by jo.collection_id, o.state`.execute(db);
    const batches = await sql<{ id: string; status: 'open' | 'released'; release_at: Date | null; released_at: Date | null; released_by: string | null; n: number }>`
      select b.id, b.status, b.release_at, b.released_at, b.released_by, count(o.id)::int as n
      from job_batches b
      left join job_orders jo on jo.batch_id = b.id
      left join orders o on o.id = jo.order_id and o.state <> 'cancelled'
      where b.job_id = ${id} group by b.id order by b.created_at, b.id`.execute(db);
    const totals = await sql<{ subjects: number; photos: number }>`
      select (select count(*)::int from job_subjects where job_id = ${id}) as subjects,
             (select count(*)::int from job_photos where job_id = ${id}) as photos`.execute(db);
    const prepay = collections.find((c) => c.kind === 'prepay')!;
    return {
      ...jobView(job, prepay.id, await this.products(db, id)),
      collections: collections.map((c) => ({
        id: c.id,
        kind: c.kind,
        name: c.name,
        createdAt: c.created_at.toISOString(),
        orders: Object.fromEntries(counts.rows.filter((r) => r.collection_id === c.id).map((r) => [r.state, r.n])),
      })),
      batches: batches.rows.map((b) => ({
        id: b.id,
        status: b.status,
        releaseAt: toIso(b.release_at),
        releasedAt: toIso(b.released_at),
        releasedBy: b.released_by,
        orders: b.n,
      })),
      subjects: totals.rows[0]!.subjects,
      photos: totals.rows[0]!.photos,
    };
  }

  async list(db: Db, filter: { status?: string | undefined; providerId?: string | undefined }, page: PageRequest): Promise<Page<JobView>> {
    let q = db
      .selectFrom('jobs')
      .innerJoin('job_collections as c', (j) => j.onRef('c.job_id', '=', 'jobs.id').on('c.kind', '=', 'prepay'))
      .selectAll('jobs')
      .select('c.id as collection_id')
      .orderBy('jobs.id', 'desc')
      .limit(page.limit + 1);
    if (filter.status) q = q.where('jobs.status', '=', filter.status as 'prepay' | 'selling');
    if (filter.providerId) q = q.where('jobs.provider_id', '=', filter.providerId);
    if (page.startingAfter) q = q.where('jobs.id', '<', page.startingAfter);
    const rows = await q.execute();
    const products = await this.productsOf(db, rows.map((r) => r.id));
    return toPage(rows.map((r) => jobView(r, r.collection_id, products.get(r.id) ?? [])), page.limit);
  }

  /**
   * Changes the job's settings. Prepay → Selling ends pre-ordering (new pre-orders are
   * refused; orders already placed go on) and cannot be undone. A new batch shipping
   * deadline also moves the open batch's.
   */
  async update(trx: Trx, id: string, input: UpdateJobInput): Promise<JobView> {
    const job = await this.load(trx, id, 'update');
    const now = this.s.clock.now();
    const set: Record<string, unknown> = { updated_at: now };
    if (input.name !== undefined) set.name = input.name;
    if (input.manualRevision !== undefined) set.manual_revision = input.manualRevision;
    if (input.pictureDay !== undefined) set.picture_day = input.pictureDay === null ? null : parseTime(input.pictureDay, 'pictureDay');
    if (input.batchReleaseAt !== undefined) {
      const at = input.batchReleaseAt === null ? null : releaseTime(input.batchReleaseAt, now);
      set.batch_release_at = at;
      await trx.updateTable('job_batches').set({ release_at: at }).where('job_id', '=', id).where('status', '=', 'open').execute();
    }
    if (input.status !== undefined && input.status !== job.status) {
      if (input.status === 'prepay') throw conflict('job_already_selling', 'The job sells already; it cannot go back to Prepay.');
      set.status = 'selling';
      set.selling_at = now;
    }
    const row = await trx.updateTable('jobs').set(set).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
    const products = input.productIds === undefined ? await this.products(trx, id) : await this.setProducts(trx, row, input.productIds);
    return jobView(row, await this.prepayCollectionId(trx, id), products);
  }

  /**
   * Adds names to the names list, each with a new access code, and `blankCards` codes
   * without a name (for paper orders of students not on the list).
   */
  async addSubjects(trx: Trx, jobId: string, input: { subjects?: { name: string; groupName?: string | undefined }[] | undefined; blankCards?: number | undefined }): Promise<SubjectView[]> {
    await this.load(trx, jobId, 'share');
    const wanted = [...(input.subjects ?? []).map((s) => ({ name: s.name, group_name: s.groupName ?? null })), ...Array.from({ length: input.blankCards ?? 0 }, () => ({ name: null, group_name: null }))];
    if (wanted.length === 0) throw badRequest('parameter_missing', 'Give subjects or blankCards.', { param: 'subjects' });
    if (wanted.length > MAX_SUBJECTS_PER_CALL) throw badRequest('parameter_invalid', `At most ${MAX_SUBJECTS_PER_CALL} subjects per call.`, { param: 'subjects' });
    const now = this.s.clock.now();
    const created: SubjectView[] = [];
    let pending = wanted.map((w) => ({ id: newId('subject'), job_id: jobId, ...w, access_code: newAccessCode(), created_at: now }));
    const pendingIds = pending.map((p) => p.id);
    // A code already taken (by any job) is drawn again; with 8.5e11 codes this is rare.
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt === 5) throw new Error('could not draw unused access codes');
      const rows = await trx.insertInto('job_subjects').values(pending).onConflict((oc) => oc.column('access_code').doNothing()).returningAll().execute();
      const done = new Set(rows.map((r) => r.id));
      created.push(...rows.map(subjectView));
      pending = pending.filter((p) => !done.has(p.id)).map((p) => ({ ...p, access_code: newAccessCode() }));
    }
    const position = new Map(pendingIds.map((id, i) => [id, i]));
    return created.sort((a, b) => position.get(a.id)! - position.get(b.id)!);
  }

  /** Corrects a name or a group on the names list (a typo, a blank card named wrongly); the access code stays. */
  async updateSubject(trx: Trx, jobId: string, subjectId: string, input: { name?: string | null | undefined; groupName?: string | null | undefined }): Promise<SubjectView> {
    await this.load(trx, jobId, 'share');
    const set: { name?: string | null; group_name?: string | null } = {};
    if (input.name !== undefined) set.name = input.name;
    if (input.groupName !== undefined) set.group_name = input.groupName;
    if (Object.keys(set).length === 0) throw badRequest('parameter_missing', 'Give name or groupName.', { param: 'name' });
    const row = await trx.updateTable('job_subjects').set(set).where('id', '=', subjectId).where('job_id', '=', jobId).returningAll().executeTakeFirst();
    if (!row) throw notFound('subject', subjectId);
    return subjectView(row);
  }

  /** The names list, sorted by name (blank cards last), as the seed sorts access codes. */
  async listSubjects(db: Db, jobId: string, page: PageRequest & { q?: string | undefined }): Promise<Page<SubjectView>> {
    await this.load(db, jobId);
    let q = db
      .selectFrom('job_subjects')
      .selectAll()
      .where('job_id', '=', jobId)
      .orderBy(sql`name is null`)
      .orderBy('name')
      .orderBy('id')
      .limit(page.limit + 1);
    if (page.q) {
      // The words as typed: % and _ match themselves, not any text.
      const like = `%${page.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      q = q.where((eb) => eb.or([eb('name', 'ilike', like), eb('access_code', '=', normalizeAccessCode(page.q!))]));
    }
    if (page.startingAfter) {
      const after = await db.selectFrom('job_subjects').select(['name', 'id']).where('id', '=', page.startingAfter).where('job_id', '=', jobId).executeTakeFirst();
      if (!after) throw badRequest('parameter_invalid', 'starting_after is not a subject of this job.', { param: 'starting_after' });
      q = after.name === null
        ? q.where('name', 'is', null).where('id', '>', after.id)
        : q.where((eb) => eb.or([eb('name', 'is', null), eb('name', '>', after.name), eb.and([eb('name', '=', after.name), eb('id', '>', after.id)])]));
    }
    return toPage((await q.execute()).map(subjectView), page.limit);
  }

  /** Who an access code belongs to, for a customer about to pre-order with it. */
  async lookupCode(db: Db | Trx, code: string) {
    const normalized = normalizeAccessCode(code);
    const row = await db
      .selectFrom('job_subjects as s')
      .innerJoin('jobs as j', 'j.id', 's.job_id')
      .select(['s.id', 's.job_id', 's.name', 's.group_name', 's.access_code', 's.created_at', 'j.name as job_name', 'j.status', 'j.currency', 'j.provider_id', 'j.picture_day'])
      .where('s.access_code', '=', normalized)
      .executeTakeFirst();
    if (!row) throw notFound('access_code', normalized);
    return row;
  }

  /**
   * Uploads photo references: each under an access code of this job, or a group picture
   * (`groupName`) for every subject of that group. All refused if one code is not the job's.
   */
  async addPhotos(trx: Trx, jobId: string, photos: { accessCode?: string | undefined; groupName?: string | undefined; fileName: string }[]): Promise<PhotoView[]> {
    await this.load(trx, jobId, 'share');
    if (photos.length === 0 || photos.length > MAX_PHOTOS_PER_CALL) throw badRequest('parameter_invalid', `Give 1 to ${MAX_PHOTOS_PER_CALL} photos.`, { param: 'photos' });
    const rows = photos.map((p, i) => {
      if ((p.accessCode === undefined) === (p.groupName === undefined)) {
        throw badRequest('parameter_invalid', `Photo ${i} needs exactly one of accessCode or groupName.`, { param: `photos.${i}` });
      }
      return { id: newId('photo'), job_id: jobId, access_code: p.accessCode === undefined ? null : normalizeAccessCode(p.accessCode), group_name: p.groupName ?? null, file_name: p.fileName, created_at: this.s.clock.now() };
    });
    await this.assertCodesOfJob(trx, jobId, rows.map((r) => r.access_code).filter((c): c is string => c !== null));
    const inserted = await trx.insertInto('job_photos').values(rows).returningAll().execute();
    await this.unpopulate(trx, jobId);
    return inserted.map(photoView).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** Re-tags a photo uploaded under the wrong code (the seed's fix for "error populating photos"). */
  async retagPhoto(trx: Trx, jobId: string, photoId: string, input: { accessCode?: string | undefined; groupName?: string | undefined }): Promise<PhotoView> {
    await this.load(trx, jobId, 'share');
    if ((input.accessCode === undefined) === (input.groupName === undefined)) throw badRequest('parameter_invalid', 'Give exactly one of accessCode or groupName.', { param: 'accessCode' });
    const code = input.accessCode === undefined ? null : normalizeAccessCode(input.accessCode);
    if (code) await this.assertCodesOfJob(trx, jobId, [code]);
    // A photo already on an order waiting in revision or in a batch stays that order's: replace it there first.
    const inUse = await sql<{ number: string }>`
      select o.number from job_orders jo join orders o on o.id = jo.order_id
      where jo.job_id = ${jobId} and o.state in ('revision', 'batch') and jo.photos @> ${JSON.stringify([{ id: photoId }])}::jsonb
      limit 5`.execute(trx);
    if (inUse.rows.length) {
      throw conflict('photo_in_use', `Photo ${photoId} is on order(s) ${inUse.rows.map((r) => r.number).join(', ')} waiting in revision or in a batch; change their photos first.`, { param: 'photoId' });
    }
    await this.unpopulate(trx, jobId);
    const row = await trx
      .updateTable('job_photos')
      .set({ access_code: code, group_name: input.groupName ?? null })
      .where('id', '=', photoId)
      .where('job_id', '=', jobId)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw notFound('photo', photoId);
    return photoView(row);
  }

  /**
   * Photos changed (uploaded or re-tagged): what populate gave the job's orders still in a
   * collection may be wrong now (the seed: "change the access code, then retry populating"),
   * so they must be populated again before they can be placed (409 photos_not_populated);
   * until then they show no photos (one may be another child's).
   */
  private async unpopulate(trx: Trx, jobId: string): Promise<void> {
    await sql`
      update job_orders jo set populated_at = null, photos = '[]'::jsonb from orders o
      where o.id = jo.order_id and jo.job_id = ${jobId} and o.state = 'collection' and jo.populated_at is not null`.execute(trx);
  }

  async listPhotos(db: Db, jobId: string, filter: { accessCode?: string | undefined }, page: PageRequest): Promise<Page<PhotoView>> {
    await this.load(db, jobId);
    let q = db.selectFrom('job_photos').selectAll().where('job_id', '=', jobId).orderBy('id').limit(page.limit + 1);
    if (filter.accessCode) q = q.where('access_code', '=', normalizeAccessCode(filter.accessCode));
    if (page.startingAfter) q = q.where('id', '>', page.startingAfter);
    return toPage((await q.execute()).map(photoView), page.limit);
  }

  private async assertCodesOfJob(trx: Trx, jobId: string, codes: string[]): Promise<void> {
    const unique = [...new Set(codes)];
    if (unique.length === 0) return;
    const known = await trx.selectFrom('job_subjects').select('access_code').where('job_id', '=', jobId).where('access_code', 'in', unique).execute();
    const have = new Set(known.map((k) => k.access_code));
    const unknown = unique.filter((c) => !have.has(c));
    if (unknown.length) throw ruleRefused('access_code_unknown', `Not an access code of this job: ${unknown.slice(0, 10).join(', ')}.`, { param: 'accessCode', codes: unknown });
  }
}

function toIso(d: Date | string | null): string | null {
  if (d === null) return null;
  return (typeof d === 'string' ? new Date(d) : d).toISOString();
}
