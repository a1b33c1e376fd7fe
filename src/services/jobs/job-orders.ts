// Prepay jobs (seed 002), the orders: pre-order with an access code (or a paper order
// staff add), populate the job's photos into the paid orders of a collection, place
// them (with photos → the open batch, or manual revision first; without → a collection
// of their own), revise and release, and release a batch to production by hand or at
// the job's batch shipping deadline. Every change of an order's state is a transition
// of the prepay process (domain/process/prepay.ts), so history, outbox, deadlines and
// money work as for any order; the job's own bookkeeping is in job_orders.
//
// Every job-level change takes the job's row lock first (pre-orders a shared one), then
// the orders' row locks: the order of locks is always job → batch → orders, and a
// populate, a place and a batch release of one job never interleave.
import { sql } from 'kysely';
import type { Db, Trx } from '../../store/db.js';
import { badRequest, conflict, notFound, ruleRefused } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import { actorLabel, SYSTEM_ACTOR, type Actor, type Services } from '../context.js';
import { toPage, type Page, type PageRequest } from '../pagination.js';
import type { OrderService } from '../orders/service.js';
import { orderView, type OrderView } from '../orders/views.js';
import type { LineInput } from '../orders/create.js';
import type { JobService } from './jobs.js';
import { photoRefs, type JobOrderView, type JobPhotoRef } from './views.js';

/** How many due batches one sweep releases at most (the next sweep takes the rest). */
const MAX_BATCHES_PER_SWEEP = 100;

export interface PreOrderInput {
  accessCode: string;
  customerId: string;
  lines: LineInput[];
  comment?: string | undefined;
  /** For a blank card: the student's name, as written on the paper form (names the card). */
  subjectName?: string | undefined;
}

interface HeldOrder {
  order_id: string;
  state: string;
  photos: unknown;
  populated_at: Date | null;
  access_code: string;
  group_name: string | null;
  subject_name: string | null;
  number: string;
}

export interface OrderRef {
  orderId: string;
  number: string;
  accessCode: string;
  subjectName: string | null;
}

const refOf = (o: HeldOrder): OrderRef => ({ orderId: o.order_id, number: o.number, accessCode: o.access_code, subjectName: o.subject_name });

export class JobOrderService {
  constructor(
    private readonly s: Services,
    private readonly jobs: JobService,
    private readonly orders: OrderService,
  ) {}

  /**
   * A pre-order: the customer (or staff, for a paper order: the seed's "Add order") orders
   * products for the subject behind `accessCode`. It joins the job's order collection;
   * refused once the job sells (409 job_not_prepay).
   */
  async preOrder(trx: Trx, input: PreOrderInput, actor: Actor, idempotencyKey: string): Promise<JobOrderView> {
    const subject = await this.jobs.lookupCode(trx, input.accessCode);
    const job = await this.jobs.load(trx, subject.job_id, 'share');
    if (job.status !== 'prepay') throw conflict('job_not_prepay', `Job ${job.id} sells already; pre-orders are closed.`);
    // Products, not sessions: a pre-order takes no seat and has no service time.
    const timed = input.lines.findIndex((l) => l.slotId !== undefined || l.startsAt !== undefined || l.endsAt !== undefined);
    if (timed >= 0) throw badRequest('parameter_invalid', `Line ${timed} has a slot or a time; pre-order lines are products.`, { param: `lines.${timed}` });
    // A customer buys from the job's price list at its prices (nobody confirms a pre-order
    // before it is paid); staff may also write a line of their own on a paper order.
    if (actor.role !== 'admin') await this.assertFromPriceList(trx, job.id, input.lines);
    const name = await this.nameBlankCard(trx, subject, input.subjectName);
    const lines = input.lines.map((l) => ({ ...l, participantName: l.participantName ?? name ?? undefined }));
    const order = await this.orders.create(
      trx,
      { process: 'prepay', customerId: input.customerId, providerId: job.provider_id, currency: job.currency, lines, comment: input.comment },
      actor,
      idempotencyKey,
    );
    const collectionId = await this.jobs.prepayCollectionId(trx, job.id);
    await trx
      .insertInto('job_orders')
      .values({ order_id: order.id, job_id: job.id, subject_id: subject.id, collection_id: collectionId, batch_id: null, photos: '[]', populated_at: null, created_at: this.s.clock.now() })
      .execute();
    return {
      object: 'job_order',
      jobId: job.id,
      jobName: job.name,
      orderId: order.id,
      subject: { id: subject.id, name, groupName: subject.group_name, accessCode: subject.access_code },
      collectionId,
      batchId: null,
      batch: null,
      photos: [],
      populatedAt: null,
      order,
    };
  }

  private async assertFromPriceList(trx: Trx, jobId: string, lines: LineInput[]): Promise<void> {
    const offered = new Set((await this.jobs.products(trx, jobId)).map((p) => p.serviceId));
    for (const [i, l] of lines.entries()) {
      if (l.serviceId !== undefined && offered.has(l.serviceId) && l.unitAmount === undefined && l.description === undefined) continue;
      throw ruleRefused('not_on_price_list', `Line ${i}: pre-order a product of the job's price list by its serviceId, at its price (GET /v1/access-codes/{code} lists them).`, {
        param: `lines.${i}`,
      });
    }
  }

  /**
   * A blank card gets the name written on the paper form, once; a named card keeps its
   * name (a different one is refused, 409 subject_named).
   */
  private async nameBlankCard(trx: Trx, subject: { id: string; name: string | null }, given: string | undefined): Promise<string | null> {
    if (given === undefined || given === subject.name) return subject.name;
    if (subject.name !== null) throw conflict('subject_named', `This access code is ${subject.name}'s; it cannot be renamed by an order.`, { param: 'subjectName' });
    const named = await trx.updateTable('job_subjects').set({ name: given }).where('id', '=', subject.id).where('name', 'is', null).returning('name').executeTakeFirst();
    if (!named) throw conflict('subject_named', 'This blank card was named meanwhile; look the code up again.', { param: 'subjectName' });
    return given;
  }

  /**
   * "Populate photos": every paid order of the collection gets the photos uploaded under
   * its access code, then its group's pictures. Orders without a photo of their own are
   * listed (the seed's error message) and get none, so placing splits them off.
   */
  async populate(trx: Trx, jobId: string, collectionId: string, actor: Actor, idempotencyKey: string) {
    await this.jobs.load(trx, jobId, 'update');
    await this.assertCollection(trx, jobId, collectionId);
    const held = await this.holdOrders(trx, { collectionId, states: ['collection'] });
    const photos = await trx.selectFrom('job_photos').select(['id', 'file_name', 'access_code', 'group_name']).where('job_id', '=', jobId).orderBy('id').execute();
    const now = this.s.clock.now();
    const populated: (OrderRef & { photos: number })[] = [];
    const withoutPhotos: OrderRef[] = [];
    const byCode = groupBy(photos.filter((p) => p.access_code !== null), (p) => p.access_code!);
    const byGroup = groupBy(photos.filter((p) => p.group_name !== null), (p) => p.group_name!);
    for (const o of held) {
      // Group pictures come with the order's own photos, never instead of them: an order
      // whose student was absent must show up as without photos, not go out with the class
      // picture alone (staff can still attach any photo in manual revision).
      const own = byCode.get(o.access_code) ?? [];
      const group = own.length === 0 || o.group_name === null ? [] : (byGroup.get(o.group_name) ?? []);
      const refs: JobPhotoRef[] = [...own, ...group].map((p) => ({ id: p.id, fileName: p.file_name }));
      await trx.updateTable('job_orders').set({ photos: JSON.stringify(refs), populated_at: now }).where('order_id', '=', o.order_id).execute();
      if (refs.length === 0) {
        withoutPhotos.push(refOf(o));
        continue;
      }
      await this.move(trx, o.order_id, 'populate_photos', actor, `${idempotencyKey}:${o.order_id}`);
      populated.push({ ...refOf(o), photos: refs.length });
    }
    return { object: 'photo_population' as const, jobId, collectionId, populated, withoutPhotos };
  }

  /**
   * "Place order(s) now": the collection's paid orders with photos go to the job's open
   * batch, or into manual revision when the job asks for it; those without photos move
   * into a new collection of their own (to populate and place after the retakes; placing
   * that one leaves those still without photos in it). Refused
   * while a paid order of the collection was never populated (409 photos_not_populated).
   */
  async place(trx: Trx, jobId: string, collectionId: string, actor: Actor, idempotencyKey: string) {
    const job = await this.jobs.load(trx, jobId, 'update');
    const collection = await this.assertCollection(trx, jobId, collectionId);
    const held = await this.holdOrders(trx, { collectionId, states: ['collection'] });
    const notPopulated = held.filter((o) => o.populated_at === null);
    if (notPopulated.length) {
      throw conflict('photos_not_populated', `Populate the photos first: ${notPopulated.length} paid order(s) of this collection have none yet.`, {
        orders: notPopulated.slice(0, 20).map(refOf),
      });
    }
    const placed: OrderRef[] = [];
    const toRevision: OrderRef[] = [];
    const withoutPhotos: OrderRef[] = [];
    let batchId: string | null = null;
    for (const o of held) {
      if (photoRefs(o.photos).length === 0) {
        withoutPhotos.push(refOf(o));
      } else if (job.manual_revision) {
        await this.move(trx, o.order_id, 'place_for_revision', actor, `${idempotencyKey}:${o.order_id}`);
        toRevision.push(refOf(o));
      } else {
        batchId ??= await this.openBatch(trx, job);
        await this.move(trx, o.order_id, 'place', actor, `${idempotencyKey}:${o.order_id}`);
        await trx.updateTable('job_orders').set({ batch_id: batchId }).where('order_id', '=', o.order_id).execute();
        placed.push(refOf(o));
      }
    }
    // Orders of a collection already split off for want of photos stay where they are.
    let splitCollectionId: string | null = null;
    if (withoutPhotos.length && collection.kind === 'prepay') {
      splitCollectionId = newId('collection');
      await trx
        .insertInto('job_collections')
        .values({ id: splitCollectionId, job_id: jobId, kind: 'without_photos', name: `${collection.name} – without photos`, created_at: this.s.clock.now() })
        .execute();
      await trx.updateTable('job_orders').set({ collection_id: splitCollectionId }).where('order_id', 'in', withoutPhotos.map((o) => o.orderId)).execute();
    }
    return { object: 'collection_placement' as const, jobId, collectionId, batchId, placed, toRevision, withoutPhotos, splitCollectionId };
  }

  /** Manual revision: the order's photos replaced by these photos of the job (e.g. the final memory-mate image). */
  async setPhotos(trx: Trx, jobId: string, orderId: string, photoIds: string[], actor: Actor, idempotencyKey: string): Promise<JobOrderView> {
    await this.jobs.load(trx, jobId, 'update');
    const [o] = await this.holdOrders(trx, { jobId, orderId });
    if (!o) throw notFound('job_order', orderId);
    if (o.state !== 'collection' && o.state !== 'revision') throw conflict('invalid_state', `The order is in '${o.state}'; photos can be changed only before it is placed or in manual revision.`);
    const photos = await trx.selectFrom('job_photos').select(['id', 'file_name']).where('job_id', '=', jobId).where('id', 'in', photoIds).execute();
    const byId = new Map(photos.map((p) => [p.id, p]));
    const missing = photoIds.filter((id) => !byId.has(id));
    if (missing.length) throw ruleRefused('photo_unknown', `Not a photo of this job: ${missing.slice(0, 10).join(', ')}.`, { param: 'photoIds' });
    const refs = photoIds.map((id) => ({ id, fileName: byId.get(id)!.file_name }));
    await trx.updateTable('job_orders').set({ photos: JSON.stringify(refs), populated_at: this.s.clock.now() }).where('order_id', '=', orderId).execute();
    await this.move(trx, orderId, 'populate_photos', actor, idempotencyKey);
    return this.get(trx, orderId);
  }

  /** Manual revision done: the order joins the job's open batch. */
  async releaseRevision(trx: Trx, jobId: string, orderId: string, actor: Actor, idempotencyKey: string): Promise<JobOrderView> {
    const job = await this.jobs.load(trx, jobId, 'update');
    const [o] = await this.holdOrders(trx, { jobId, orderId });
    if (!o) throw notFound('job_order', orderId);
    if (photoRefs(o.photos).length === 0) throw ruleRefused('order_without_photos', 'The order has no photos; set them before releasing it.');
    const batchId = await this.openBatch(trx, job);
    await this.move(trx, orderId, 'release_revision', actor, idempotencyKey);
    await trx.updateTable('job_orders').set({ batch_id: batchId }).where('order_id', '=', orderId).execute();
    return this.get(trx, orderId);
  }

  /** Sends the batch to production by hand: every order in it moves on; the batch is closed. */
  async releaseBatch(trx: Trx, jobId: string, batchId: string, actor: Actor, idempotencyKey: string) {
    await this.jobs.load(trx, jobId, 'update');
    const batch = await this.lockBatch(trx, jobId, batchId);
    if (batch.status !== 'open') throw conflict('batch_released', `Batch ${batchId} went to production already.`);
    const held = await this.holdOrders(trx, { batchId, states: ['batch'] });
    if (held.length === 0) throw conflict('batch_empty', `Batch ${batchId} has no orders to send.`);
    return this.release(trx, jobId, batchId, held, { actor, transition: 'release', idempotencyKey, now: this.s.clock.now() });
  }

  /**
   * The batch shipping deadline: releases every open batch due by `now`, each in its own
   * transaction and at its own deadline (so a late sweep writes the same history). Safe
   * with several processes: a batch is re-checked under its job's lock, and one another
   * process released meanwhile is skipped.
   */
  async releaseDueBatches(now: Date): Promise<number> {
    const due = await this.s.store.db
      .selectFrom('job_batches')
      .select(['id', 'job_id'])
      .where('status', '=', 'open')
      .where('release_at', '<=', now)
      .orderBy('release_at')
      .orderBy('id')
      .limit(MAX_BATCHES_PER_SWEEP)
      .execute();
    let released = 0;
    // One batch that cannot be released must not hold up the others: the rest go, then its error is thrown.
    let failed: { err: unknown } | null = null;
    for (const b of due) {
      try {
        const done = await this.s.store.transaction(async (trx) => {
          await this.jobs.load(trx, b.job_id, 'update');
          const batch = await this.lockBatch(trx, b.job_id, b.id);
          if (batch.status !== 'open' || batch.release_at === null || batch.release_at.getTime() > now.getTime()) return false;
          await this.releaseDue(trx, b.job_id, b.id, batch.release_at);
          return true;
        });
        if (done) released++;
      } catch (err) {
        failed ??= { err };
      }
    }
    if (failed) throw failed.err;
    return released;
  }

  /** Releases a batch whose shipping deadline has come, as the system, at that deadline (job and batch locked). */
  private async releaseDue(trx: Trx, jobId: string, batchId: string, releaseAt: Date) {
    const held = await this.holdOrders(trx, { batchId, states: ['batch'] });
    return this.release(trx, jobId, batchId, held, { actor: SYSTEM_ACTOR, transition: 'auto_release', idempotencyKey: `batch:${batchId}`, now: releaseAt });
  }

  async get(db: Db | Trx, orderId: string): Promise<JobOrderView> {
    const row = await this.rows(db).where('jo.order_id', '=', orderId).executeTakeFirst();
    if (!row) throw notFound('job_order', orderId);
    return this.viewOf(row, await orderView(db, orderId));
  }

  async list(db: Db, jobId: string, filter: { collectionId?: string | undefined; batchId?: string | undefined; state?: string | undefined }, page: PageRequest): Promise<Page<JobOrderView>> {
    await this.jobs.load(db, jobId);
    let q = this.rows(db)
      .innerJoin('orders as o', 'o.id', 'jo.order_id')
      .where('jo.job_id', '=', jobId)
      .orderBy('jo.order_id', 'desc')
      .limit(page.limit + 1);
    if (filter.collectionId) q = q.where('jo.collection_id', '=', filter.collectionId);
    if (filter.batchId) q = q.where('jo.batch_id', '=', filter.batchId);
    if (filter.state) q = q.where('o.state', '=', filter.state);
    if (page.startingAfter) q = q.where('jo.order_id', '<', page.startingAfter);
    const rows = await q.execute();
    const views: JobOrderView[] = [];
    for (const r of rows) views.push(this.viewOf(r, await orderView(db, r.order_id, { events: false })));
    return toPage(views, page.limit);
  }

  /** A job order with its subject, job name and batch: what its view shows. */
  private rows(db: Db | Trx) {
    return db
      .selectFrom('job_orders as jo')
      .innerJoin('job_subjects as s', 's.id', 'jo.subject_id')
      .innerJoin('jobs as j', 'j.id', 'jo.job_id')
      .leftJoin('job_batches as b', 'b.id', 'jo.batch_id')
      .select([
        'jo.order_id',
        'jo.job_id',
        'j.name as job_name',
        'jo.collection_id',
        'jo.batch_id',
        'b.status as batch_status',
        'b.release_at as batch_release_at',
        'b.released_at as batch_released_at',
        'jo.photos',
        'jo.populated_at',
        's.id as subject_id',
        's.name',
        's.group_name',
        's.access_code',
      ]);
  }

  private viewOf(
    r: {
      order_id: string;
      job_id: string;
      job_name: string;
      collection_id: string;
      batch_id: string | null;
      batch_status: 'open' | 'released' | null;
      batch_release_at: Date | null;
      batch_released_at: Date | null;
      photos: unknown;
      populated_at: Date | null;
      subject_id: string;
      name: string | null;
      group_name: string | null;
      access_code: string;
    },
    order: OrderView,
  ): JobOrderView {
    return {
      object: 'job_order',
      jobId: r.job_id,
      jobName: r.job_name,
      orderId: r.order_id,
      subject: { id: r.subject_id, name: r.name, groupName: r.group_name, accessCode: r.access_code },
      collectionId: r.collection_id,
      batchId: r.batch_id,
      batch:
        r.batch_id && r.batch_status
          ? { id: r.batch_id, status: r.batch_status, releaseAt: r.batch_release_at?.toISOString() ?? null, releasedAt: r.batch_released_at?.toISOString() ?? null }
          : null,
      photos: photoRefs(r.photos),
      populatedAt: r.populated_at ? new Date(r.populated_at).toISOString() : null,
      order,
    };
  }

  private async release(trx: Trx, jobId: string, batchId: string, held: HeldOrder[], how: { actor: Actor; transition: 'release' | 'auto_release'; idempotencyKey: string; now: Date }) {
    // At the batch's time (the engine never dates a step before the order's last one).
    for (const o of held) await this.move(trx, o.order_id, how.transition, how.actor, `${how.idempotencyKey}:${o.order_id}`, how.now);
    await trx
      .updateTable('job_batches')
      .set({ status: 'released', released_at: how.now, released_by: actorLabel(how.actor) })
      .where('id', '=', batchId)
      .execute();
    return { object: 'batch_release' as const, jobId, batchId, releasedAt: how.now.toISOString(), orders: held.map(refOf) };
  }

  /**
   * The job's open batch, opened now if there is none. One whose shipping deadline has
   * passed without a sweep yet is released first (at its deadline) and a new one opened:
   * nothing joins a batch after it was due to leave.
   */
  private async openBatch(trx: Trx, job: { id: string; batch_release_at: Date | null }): Promise<string> {
    const now = this.s.clock.now();
    const open = await trx.selectFrom('job_batches').select(['id', 'release_at']).where('job_id', '=', job.id).where('status', '=', 'open').forUpdate().executeTakeFirst();
    if (open && (open.release_at === null || open.release_at.getTime() > now.getTime())) return open.id;
    if (open) await this.releaseDue(trx, job.id, open.id, open.release_at!);
    const releaseAt = job.batch_release_at && job.batch_release_at.getTime() > now.getTime() ? job.batch_release_at : null;
    const id = newId('batch');
    await trx.insertInto('job_batches').values({ id, job_id: job.id, status: 'open', release_at: releaseAt, released_at: null, released_by: null, created_at: now }).execute();
    return id;
  }

  private async lockBatch(trx: Trx, jobId: string, batchId: string) {
    const batch = await trx.selectFrom('job_batches').selectAll().where('id', '=', batchId).where('job_id', '=', jobId).forUpdate().executeTakeFirst();
    if (!batch) throw notFound('batch', batchId);
    return batch;
  }

  private async assertCollection(trx: Trx, jobId: string, collectionId: string) {
    const c = await trx.selectFrom('job_collections').selectAll().where('id', '=', collectionId).where('job_id', '=', jobId).executeTakeFirst();
    if (!c) throw notFound('collection', collectionId);
    return c;
  }

  /** The job's orders asked for, their rows locked (a cancel racing a placement waits or is waited for), oldest first. */
  private async holdOrders(trx: Trx, by: { collectionId?: string; batchId?: string; jobId?: string; orderId?: string; states?: string[] }): Promise<HeldOrder[]> {
    const rows = await sql<HeldOrder>`
      select jo.order_id, o.state, jo.photos, jo.populated_at, s.access_code, s.group_name, s.name as subject_name, o.number
      from job_orders jo
      join orders o on o.id = jo.order_id
      join job_subjects s on s.id = jo.subject_id
      where ${by.collectionId ? sql`jo.collection_id = ${by.collectionId}` : sql`true`}
        and ${by.batchId ? sql`jo.batch_id = ${by.batchId}` : sql`true`}
        and ${by.jobId ? sql`jo.job_id = ${by.jobId}` : sql`true`}
        and ${by.orderId ? sql`jo.order_id = ${by.orderId}` : sql`true`}
        and ${by.states ? sql`o.state in (${sql.join(by.states)})` : sql`true`}
      order by jo.order_id
      for update of o, jo`.execute(trx);
    return rows.rows.map((r) => ({ ...r, populated_at: r.populated_at === null ? null : new Date(r.populated_at) }));
  }

  private async move(trx: Trx, orderId: string, transition: string, actor: Actor, idempotencyKey: string, now?: Date): Promise<void> {
    const outcome = await this.orders.transition(trx, orderId, transition, actor, {}, { idempotencyKey, ...(now ? { now } : {}) });
    // None of the job's transitions refunds, so nothing is left to send after commit.
    if (outcome.after) throw new Error(`transition ${transition} left work after commit`);
  }
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}
