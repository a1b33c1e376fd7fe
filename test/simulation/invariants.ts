// The invariants the simulation checks after every step (see sim.ts): money, deadlines,
// seats and history, computed from the database independently of the engine; and the
// full ledger check.
import { sql } from 'kysely';
import { DAY, DEADLINE_OF_PREPAY_STATE, DEADLINE_OF_STATE, DIRECT_STATES, HOUR, iso, PLAUSIBLE, PREPAY_STATES, TERMINAL, type OrderRef, type Service } from './actions.js';
import { batchLabel, collectionLabel, type JobRef } from './prepay.js';
import { fail, outcome, type Res, type World } from './world.js';

/** What the checks need from the simulation. */
export interface InvariantContext {
  readonly world: World;
  readonly orders: readonly OrderRef[];
  readonly orderIndex: ReadonlyMap<string, number>;
  readonly services: readonly Service[];
  readonly jobs: readonly JobRef[];
  readonly now: Date;
  readonly step: number;
  labelOf(id: string): string;
  get(path: string): Promise<Res>;
}

export class Invariants {
  private lastCheckedStep = -1;

  constructor(private readonly sim: InvariantContext) {}

  /** Checks everything that must hold between steps; `clockMoved`: no deadline may be overdue. */
  async check(clockMoved: boolean): Promise<void> {
    const db = this.sim.world.store.db;
    if (this.sim.world.deadlineErrors.length) fail(`a deadline could not fire: ${this.sim.world.deadlineErrors.join('; ')}`);

    // Account credit is never negative.
    const negative = await sql<{ id: string; balance: number }>`
      select a.id, sum(b.balance)::bigint as balance from accounts a join account_balances b on b.account_id = a.id
      where a.kind = 'customer_credit' group by a.id having sum(b.balance) < 0`.execute(db);
    if (negative.rows.length) fail(`negative account credit: ${JSON.stringify(negative.rows)}`);

    // Every order: money agrees with its escrow account and the ledger; the deadline its state needs; history.
    const orders = await sql<any>`
      select o.id, o.process, o.state, o.paid, o.refunded, o.subtotal, o.service_fee, o.starts_at, o.ends_at, o.entered_state_at,
             o.last_edit_at, o.closed_at, o.policies, o.updated_at,
             coalesce((select sum(b.balance) from account_balances b where b.account_id = 'acct_order_escrow_' || o.id || '_' || o.currency), 0)::bigint as escrow,
             coalesce((select sum(p.amount) from postings p join ledger_transactions t on t.id = p.transaction_id
                       where p.account_id = 'acct_order_escrow_' || o.id || '_' || o.currency and t.type = 'order_payment'), 0)::bigint as paid_in,
             coalesce((select -sum(p.amount) from postings p join ledger_transactions t on t.id = p.transaction_id
                       where p.account_id = 'acct_order_escrow_' || o.id || '_' || o.currency and t.type = 'order_refund'), 0)::bigint as refunded_out,
             coalesce((select -sum(p.amount) from postings p join ledger_transactions t on t.id = p.transaction_id
                       where t.order_id = o.id and t.type = 'order_refund' and p.account_id like 'acct_provider_payable_%'), 0)::bigint as refunded_from_payout,
             coalesce((select sum(p.amount) from postings p join ledger_transactions t on t.id = p.transaction_id
                       where t.order_id = o.id and t.type = 'order_settlement' and p.account_id like 'acct_provider_payable_%'), 0)::bigint as provider_earned,
             (select count(*) from deadlines d where d.order_id = o.id)::int as n_deadlines,
             d.transition as d_transition, d.due_at as d_due,
             py.status as payout_status, py.due_at as payout_due, py.amount as payout_amount,
             (select count(*) from order_lines l where l.order_id = o.id and l.status = 'open')::int as open_lines,
             (select count(*) from order_lines l where l.order_id = o.id and l.status <> 'cancelled')::int as live_lines,
             (select count(*) from order_lines l where l.order_id = o.id and l.status = 'done')::int as done_lines,
             (select count(*) from order_lines l where l.order_id = o.id)::int as all_lines,
             (select coalesce(sum(l.refunded), 0) from order_lines l where l.order_id = o.id)::bigint as lines_refunded,
             (select count(*) from order_lines l where l.order_id = o.id and (l.refunded < 0 or l.refunded > l.amount))::int as bad_line_refunds,
             (select e.to_state from order_events e where e.order_id = o.id and e.transition is not null order by e.id desc limit 1) as last_to,
             (select sum(p.amount) from order_payments p where p.order_id = o.id)::bigint as payments_sum,
             -- The lines still on the order (all of them once every one is cancelled); untimed lines count too.
             (select case when bool_or(l.status <> 'cancelled') then min(l.starts_at) filter (where l.status <> 'cancelled') else min(l.starts_at) end
                from order_lines l where l.order_id = o.id) as lines_start,
             (select case when bool_or(l.status <> 'cancelled') then max(l.ends_at) filter (where l.status <> 'cancelled') else max(l.ends_at) end
                from order_lines l where l.order_id = o.id) as lines_end
      from orders o left join deadlines d on d.order_id = o.id left join payouts py on py.order_id = o.id`.execute(db);
    const known = new Set(orders.rows.map((o: any) => o.id as string));
    for (const ref of this.sim.orders) if (!known.has(ref.id)) fail(`${ref.label} (${ref.process}) is gone from the database`);
    for (const o of orders.rows) {
      const label = this.sim.labelOf(o.id);
      const where = `${label} ${o.process} [${o.state}]`;
      const ref = this.sim.orders[this.sim.orderIndex.get(o.id) ?? -1];
      if (!ref) fail(`an order the simulation did not create: ${o.id} (${o.process})`);
      if (ref!.process !== o.process) fail(`${where}: created as ${ref!.process}`);
      const direct = o.process === 'direct';
      const prepay = o.process === 'prepay';
      if (!direct && !prepay && o.process !== 'booking') fail(`${where}: unknown process`);
      if (direct && !DIRECT_STATES.has(o.state)) fail(`${where}: not a state of the direct process`);
      if (prepay && !PREPAY_STATES.has(o.state)) fail(`${where}: not a state of the prepay process`);
      if (o.process === 'booking' && !(o.state in PLAUSIBLE)) fail(`${where}: not a state of the booking process`);
      if (o.bad_line_refunds !== 0) fail(`${where}: ${o.bad_line_refunds} line(s) refunded below 0 or above their amount`);
      const paid = Number(o.paid);
      const refunded = Number(o.refunded);
      const escrow = Number(o.escrow);
      if (refunded > paid) fail(`${where}: refunded ${refunded} > paid ${paid}`);
      if (refunded < 0 || paid < 0) fail(`${where}: negative paid/refunded`);
      if (Number(o.paid_in) !== paid) fail(`${where}: paid ${paid} but the ledger put ${o.paid_in} into escrow`);
      // Refunds come out of escrow while the order holds the money, after its end out of the payout.
      const refundedOut = Number(o.refunded_out) + Number(o.refunded_from_payout);
      if (refundedOut !== refunded) fail(`${where}: refunded ${refunded} but the ledger refunded ${o.refunded_out} from escrow and ${o.refunded_from_payout} from the payout`);
      if (Number(o.refunded_from_payout) > 0 && !TERMINAL.has(o.state)) fail(`${where}: refunded from a payout before the order ended`);
      // The payout is what the provider earned at the end less what was refunded from it since.
      if (o.payout_status && Number(o.payout_amount) !== Number(o.provider_earned) - Number(o.refunded_from_payout)) {
        fail(`${where}: payout ${o.payout_amount} (${o.payout_status}), earned ${o.provider_earned} less ${o.refunded_from_payout} refunded from it`);
      }
      if (o.payout_status === 'cancelled' && Number(o.payout_amount) !== 0) fail(`${where}: a cancelled payout of ${o.payout_amount}`);
      const expectedEscrow = TERMINAL.has(o.state) ? 0 : paid - refunded;
      if (escrow !== expectedEscrow) fail(`${where}: escrow holds ${escrow}, expected ${expectedEscrow} (paid ${paid}, refunded ${refunded})`);
      if ((o.state === 'confirmation' || o.state === 'payment') && paid !== 0) fail(`${where}: money paid before the payment step (${paid})`);
      // Line refunds are part of the order's refunds (the rest are staff refunds, claims, price cuts).
      if (Number(o.lines_refunded) > refunded) fail(`${where}: lines refunded ${o.lines_refunded}, the order only ${refunded}`);
      // Direct and prepay orders are paid up front: past payment the whole total was paid (a free order pays nothing).
      if ((direct || prepay) && o.state !== 'payment' && !(o.state === 'cancelled' && paid === 0) && paid !== Number(o.subtotal) + Number(o.service_fee)) {
        fail(`${where}: paid ${paid}, the total is ${Number(o.subtotal) + Number(o.service_fee)}`);
      }
      if (prepay) {
        // Whole orders only: every line open until it closes (all done) or is cancelled (all cancelled).
        const want = o.state === 'closed' ? o.done_lines : o.state === 'cancelled' ? o.all_lines - o.live_lines : o.open_lines;
        if (want !== o.all_lines) fail(`${where}: ${o.open_lines} open, ${o.done_lines} done of ${o.all_lines} line(s)`);
      }
      if (direct) {
        if (o.state === 'payment' && o.open_lines !== o.all_lines) fail(`${where}: lines delivered or cancelled before payment`);
        // Delivery lasts while a line is open; the last one closes (something delivered) or cancels (nothing delivered) it.
        if (o.state === 'delivery' && o.open_lines === 0) fail(`${where}: no open line left`);
        if (o.state === 'closed' && o.done_lines === 0) fail(`${where}: closed with no line delivered`);
        if (o.state === 'cancelled' && o.done_lines !== 0) fail(`${where}: cancelled with ${o.done_lines} line(s) delivered`);
      }
      // The card part and the account-credit part add up to what was paid.
      if (Number(o.payments_sum ?? 0) !== paid) fail(`${where}: payments add up to ${o.payments_sum ?? 0}, paid says ${paid}`);
      if (o.last_to !== o.state) fail(`${where}: the last event says ${o.last_to}`);
      // The service time is derived from the lines that are still on the order.
      const t = (d: Date | null) => d?.getTime() ?? null;
      if (t(o.starts_at) !== t(o.lines_start) || t(o.ends_at) !== t(o.lines_end)) {
        fail(`${where}: service time ${o.starts_at?.toISOString()}–${o.ends_at?.toISOString()}, its lines say ${o.lines_start?.toISOString()}–${o.lines_end?.toISOString()}`);
      }
      // (A prepay claim comes straight from production: its lines are done when it is resolved.)
      if (['execution_confirmation', 'claim', 'closed', 'cancelled'].includes(o.state) && !(prepay && o.state === 'claim') && o.open_lines !== 0) fail(`${where}: ${o.open_lines} line(s) still open`);
      if (o.state === 'cancelled' && o.live_lines !== 0 && o.closed_at === null) fail(`${where}: cancelled without closed_at`);
      if (TERMINAL.has(o.state) && !o.closed_at) fail(`${where}: terminal without closed_at`);

      // Deadlines: exactly one for a state that has one; terminal ones only for a scheduled payout.
      // The direct process has no deadlines of its own (staff drive it), only the payout's.
      // A prepay order waits on staff in collection, revision and batch (the batch's deadline is the job's, see checkJobs).
      const wanted = direct ? undefined : prepay ? DEADLINE_OF_PREPAY_STATE[o.state] : DEADLINE_OF_STATE[o.state];
      if (wanted) {
        if (o.n_deadlines !== 1 || o.d_transition !== wanted) fail(`${where}: deadline ${o.d_transition ?? 'none'} (${o.n_deadlines} rows), expected ${wanted}`);
        // A deadline the rules put before the transition that set it (a booking staff recorded
        // after its start) falls due at that transition's time (engine.ts nextDeadline).
        const ruled = this.expectedDue(o);
        const expectedDue = ruled === null ? null : Math.max(ruled, (o.updated_at as Date).getTime());
        if (expectedDue !== null && o.d_due.getTime() !== expectedDue) {
          fail(`${where}: ${wanted} due ${o.d_due.toISOString()}, the rules say ${iso(expectedDue)}`);
        }
      } else if (TERMINAL.has(o.state)) {
        if (o.payout_status === 'scheduled') {
          if (o.n_deadlines !== 1 || o.d_transition !== '@payout' || o.d_due.getTime() !== o.payout_due.getTime()) {
            fail(`${where}: a scheduled payout needs its deadline, found ${o.d_transition ?? 'none'}`);
          }
        } else if (o.n_deadlines !== 0) fail(`${where}: finished with nothing to pay out but has deadline ${o.d_transition}`);
      } else if (o.n_deadlines !== 0) fail(`${where}: no deadline expected, found ${o.d_transition}`);
      if (o.payout_status && !TERMINAL.has(o.state)) fail(`${where}: a payout exists before the order finished`);
      // The payout is due payoutDelayDays calendar days (business time zone) after the end.
      if (o.payout_status && o.closed_at) {
        const p = o.policies as { timeZone: string; payoutDelayDays: number };
        const due = addLocalDays((o.closed_at as Date).getTime(), p.payoutDelayDays, p.timeZone);
        if ((o.payout_due as Date).getTime() !== due) fail(`${where}: payout due ${(o.payout_due as Date).toISOString()}, closed ${(o.closed_at as Date).toISOString()} + ${p.payoutDelayDays} days is ${iso(due)}`);
      }
      if (TERMINAL.has(o.state) && Number(o.provider_earned) > 0 && !o.payout_status) fail(`${where}: the provider earned ${o.provider_earned} but there is no payout`);
    }

    // Deadlines whose order the simulation does not know (or of other processes) must not exist either;
    // a direct order's only deadline is its payout's, a prepay order's its payment's, its confirmation window's or its payout's.
    const stray = await sql<{ n: number }>`
      select count(*)::int as n from deadlines d left join orders o on o.id = d.order_id
      where o.id is null or o.process not in ('booking', 'direct', 'prepay') or (o.process = 'direct' and d.transition <> '@payout')
         or (o.process = 'prepay' and d.transition not in ('expire_payment', 'auto_close', '@payout'))`.execute(db);
    if (stray.rows[0]!.n) fail(`deadlines on unknown orders or processes, a direct order's own deadline, or a prepay order's unknown one: ${stray.rows[0]!.n}`);

    await this.checkJobs(orders.rows.filter((o: any) => o.process === 'prepay').map((o: any) => o.id as string));

    // Right after the clock moved, every deadline due by now has fired.
    if (clockMoved) {
      const overdue = await sql<{ order_id: string; transition: string; due_at: Date }>`
        select order_id, transition, due_at from deadlines where due_at <= ${iso(this.sim.now.getTime())}::timestamptz`.execute(db);
      if (overdue.rows.length) {
        fail(`overdue deadlines after the clock moved: ${overdue.rows.map((r) => `${this.sim.labelOf(r.order_id)} ${r.transition} ${r.due_at.toISOString()}`).join(', ')}`);
      }
    }

    // Seats: booked equals the seats of the open/done lines holding the slot, within capacity.
    const slots = await sql<{ id: string; capacity: number; booked: number; held: number }>`
      select s.id, s.capacity, s.booked,
             coalesce(sum(l.quantity) filter (where l.status in ('open', 'done')), 0)::int as held
      from slots s left join order_lines l on l.slot_id = s.id group by s.id, s.capacity, s.booked`.execute(db);
    for (const s of slots.rows) {
      if (Number(s.booked) !== Number(s.held)) fail(`slot ${this.slotLabel(s.id)}: booked ${s.booked} but lines hold ${s.held}`);
      if (Number(s.booked) > Number(s.capacity) || Number(s.booked) < 0) fail(`slot ${this.slotLabel(s.id)}: booked ${s.booked} of ${s.capacity}`);
    }

    // A deadline that could not fire is recorded as an event: there must be none.
    const failed = await sql<{ n: number }>`select count(*)::int as n from order_events where type = 'order.deadline_failed'`.execute(db);
    if (failed.rows[0]!.n) fail(`${failed.rows[0]!.n} order.deadline_failed event(s)`);
  }

  /**
   * Prepay jobs (seed 002): every prepay order is in exactly one job (and nothing else is),
   * its subject, collection and batch are that job's, and its place there fits its state —
   * no batch before it is placed; in state batch, an open batch of its job; in production,
   * claim or closed, a released batch that sent it exactly once, at the batch's release; a
   * cancelled order never sent. Placed orders have photos, all of their job. Each job has
   * one order collection of its own, at most one open batch, whose deadline is the job's
   * and still ahead (a passed one has fired); a batch released by the system went at its
   * deadline; the collections and batches are those the answers named; no pre-order after
   * the switch to Selling; pre-order lines are products (no time, no seat).
   */
  private async checkJobs(prepayOrders: string[]): Promise<void> {
    const jobs = this.sim.jobs;
    if (!jobs.length && !prepayOrders.length) return;
    const db = this.sim.world.store.db;
    const jobOf = new Map(jobs.map((j) => [j.id, j]));
    // (Few joins per query: PGlite plans every query afresh, and a seven-way join cost more than the rest of this.)
    // Every job with its collections counted and its batches (one row per batch, or one for a job without any).
    const batches = await sql<any>`
      select j.id as job_id, j.provider_id, j.currency, j.selling_at, j.batch_release_at, c.prepay, c.n as collections,
             b.id, b.status, b.release_at, b.released_at, b.released_by, b.created_at
      from jobs j
      cross join lateral (select count(*) filter (where kind = 'prepay')::int as prepay, count(*)::int as n from job_collections c where c.job_id = j.id) c
      left join job_batches b on b.job_id = j.id order by j.id, b.id`.execute(db);
    const jobRow = new Map<string, any>(batches.rows.map((b: any) => [b.job_id, b]));
    const batchRow = new Map<string, any>(batches.rows.filter((b: any) => b.id !== null).map((b: any) => [b.id, b]));
    const open = new Map<string, number>();
    const now = this.sim.now.getTime();
    const t = (d: Date | null) => d?.getTime() ?? null;
    for (const b of batches.rows) {
      const j = jobOf.get(b.job_id);
      if (!j) fail(`a job the simulation did not make`);
      if (b.prepay !== 1 || b.collections !== j!.collections.length) fail(`${j!.label}: ${b.prepay} prepay collection(s), ${b.collections} in all; the answers named ${j!.collections.length}`);
      if (b.id === null) continue;
      const where = `${batchLabel(j!, b.id)} [${b.status}]`;
      if (!j!.batches.includes(b.id)) fail(`${where}: a batch no answer named`);
      if ((b.status === 'released') !== (b.released_at !== null)) fail(`${where}: released_at ${b.released_at}`);
      if (b.status === 'open') {
        open.set(b.job_id, (open.get(b.job_id) ?? 0) + 1);
        // Its deadline is the job's (moved with it), unless the job's had passed when it opened.
        const ok = t(b.release_at) === t(b.batch_release_at) || (b.release_at === null && b.batch_release_at !== null && t(b.batch_release_at)! <= t(b.created_at)!);
        if (!ok) fail(`${where}: release_at ${b.release_at?.toISOString() ?? 'none'}, the job's ${b.batch_release_at?.toISOString() ?? 'none'} (opened ${b.created_at.toISOString()})`);
        if (b.release_at && t(b.release_at)! <= now) fail(`${where}: its deadline ${b.release_at.toISOString()} passed (now ${iso(now)}) but it is still open`);
      } else if (b.released_by === 'system' && t(b.released_at) !== t(b.release_at)) fail(`${where}: released by the system at ${b.released_at.toISOString()}, its deadline was ${b.release_at?.toISOString()}`);
    }
    for (const [jobId, n] of open) if (n > 1) fail(`${jobOf.get(jobId)!.label}: ${n} open batches`);
    for (const j of jobs) {
      const rows = batches.rows.filter((b: any) => b.job_id === j.id);
      if (!rows.length) fail(`${j.label} is gone from the database`);
      if (rows.filter((b: any) => b.id !== null).length !== j.batches.length) fail(`${j.label}: the answers named ${j.batches.length} batch(es)`);
    }

    const rows = await sql<any>`
      select o.id, o.process, o.state, o.provider_id, o.currency, o.starts_at, o.ends_at, o.entered_state_at,
             jo.job_id, jo.batch_id, jo.collection_id, jo.populated_at, jo.created_at as jo_created, jsonb_array_length(jo.photos)::int as n_photos,
             (select s.job_id from job_subjects s where s.id = jo.subject_id) as subject_job,
             (select c.job_id from job_collections c where c.id = jo.collection_id) as collection_job,
             ev.n::int as n_released, ev.at as released_event_at, ev.transition as released_by_transition, ev.actor as released_by_actor,
             (select count(*) from jsonb_array_elements(jo.photos) p
               where not exists (select 1 from job_photos jp where jp.id = p->>'id' and jp.job_id = jo.job_id))::int as foreign_photos
      from job_orders jo join orders o on o.id = jo.order_id
      left join lateral (select count(*) as n, max(e.created_at) as at, max(e.transition) as transition, max(e.actor) as actor
                         from order_events e where e.order_id = o.id and e.transition in ('release', 'auto_release')) ev on true`.execute(db);
    const inJobs = new Set(rows.rows.map((o: any) => o.id as string));
    for (const id of prepayOrders) if (!inJobs.has(id)) fail(`${this.sim.labelOf(id)} prepay: in no job`);
    for (const o of rows.rows) {
      const where = `${this.sim.labelOf(o.id)} prepay [${o.state}]`;
      if (o.process !== 'prepay') fail(`${this.sim.labelOf(o.id)} (${o.process}) is in a job`);
      const j = jobOf.get(o.job_id);
      if (!j) fail(`${where}: in a job the simulation did not make`);
      const job = jobRow.get(o.job_id);
      const batch = o.batch_id ? batchRow.get(o.batch_id) : undefined;
      const ref = this.sim.orders[this.sim.orderIndex.get(o.id) ?? -1];
      if (ref?.job !== undefined && jobs[ref.job] !== j) fail(`${where}: pre-ordered in ${jobs[ref.job]!.label}, now in ${j!.label}`);
      if (o.subject_job !== o.job_id || o.collection_job !== o.job_id || (o.batch_id && batch?.job_id !== o.job_id)) fail(`${where}: subject, collection or batch of another job than ${j!.label}`);
      if (o.provider_id !== job.provider_id || o.currency !== job.currency) fail(`${where}: provider/currency ${o.provider_id}/${o.currency}, the job's ${job.provider_id}/${job.currency}`);
      // (The service time is its lines', checked above: none means no line has a time or a slot.)
      if (o.starts_at !== null || o.ends_at !== null) fail(`${where}: lines with a time or a slot`);
      if (job.selling_at && (o.jo_created as Date).getTime() > (job.selling_at as Date).getTime()) fail(`${where}: pre-ordered after ${j!.label} switched to Selling`);
      if (o.foreign_photos) fail(`${where}: ${o.foreign_photos} photo(s) not of ${j!.label}`);
      if (!j!.collections.includes(o.collection_id)) fail(`${where}: in a collection no answer named`);
      if (o.batch_id && !j!.batches.includes(o.batch_id)) fail(`${where}: in a batch no answer named`);
      const status = batch?.status as string | undefined;
      const place = `${collectionLabel(j!, o.collection_id)}/${batchLabel(j!, o.batch_id)}${status ? ` (${status})` : ''}`;
      if (['payment', 'collection', 'revision'].includes(o.state) && o.batch_id) fail(`${where}: in ${place} before it was placed or released from revision`);
      if (o.state === 'batch' && (!o.batch_id || status !== 'open')) fail(`${where}: in ${place}, not an open batch of its job`);
      if (['production', 'claim', 'closed'].includes(o.state)) {
        if (!o.batch_id || status !== 'released') fail(`${where}: in ${place}, not a released batch`);
        if (o.n_released !== 1) fail(`${where}: sent to production ${o.n_released} times`);
        const releasedAt = (batch.released_at as Date).getTime();
        if ((o.released_event_at as Date).getTime() !== releasedAt) fail(`${where}: sent at ${(o.released_event_at as Date).toISOString()}, its batch went at ${iso(releasedAt)}`);
        // By the system at the batch's deadline (auto_release), or by whoever released the batch by hand (release).
        const bySystem = batch.released_by === 'system';
        if ((o.released_by_transition === 'auto_release') !== bySystem || (o.released_by_actor === 'system') !== bySystem) fail(`${where}: sent by ${o.released_by_transition} (${o.released_by_actor}), its batch was released by ${batch.released_by}`);
        if (o.state === 'production' && (o.entered_state_at as Date).getTime() !== releasedAt) fail(`${where}: in production since ${(o.entered_state_at as Date).toISOString()}, its batch went at ${iso(releasedAt)}`);
      } else if (o.n_released !== 0) fail(`${where}: sent to production ${o.n_released} time(s) but is ${o.state}`);
      if (['revision', 'batch', 'production', 'claim', 'closed'].includes(o.state) && (o.n_photos === 0 || o.populated_at === null)) fail(`${where}: placed with ${o.n_photos} photos (populated ${o.populated_at?.toISOString() ?? 'never'})`);
    }
  }

  private slotLabel(id: string): string {
    for (const [i, s] of this.sim.services.entries()) {
      const j = s.slots.findIndex((sl) => sl.id === id);
      if (j >= 0) return `s${i}.${j}`;
    }
    return id;
  }

  /**
   * The due time the SPEC gives for the order's state, computed here independently of the
   * engine: confirmation 24 h after the create/edit (5 h when the service starts that same
   * local day), never after the start; payment 12 h, never after the start; auto-done at
   * end + 72 h; auto-close 5 calendar days after entering (business wall clock, so 119 or
   * 121 hours across a DST change).
   */
  private expectedDue(o: any): number | null {
    const p = o.policies as { timeZone: string; confirmationWindowHours: number; sameDayConfirmationWindowHours: number; paymentWindowHours: number; completionWindowHours: number; executionConfirmationWindowDays: number };
    const start = o.starts_at ? (o.starts_at as Date).getTime() : null;
    const capped = (t: number) => (start === null ? t : Math.min(t, start));
    switch (o.state) {
      case 'confirmation': {
        const edit = (o.last_edit_at as Date).getTime();
        const sameDay = start !== null && localDay(edit, p.timeZone) === localDay(start, p.timeZone);
        return capped(edit + (sameDay ? p.sameDayConfirmationWindowHours : p.confirmationWindowHours) * HOUR);
      }
      case 'payment':
        return capped((o.entered_state_at as Date).getTime() + p.paymentWindowHours * HOUR);
      case 'execution':
        return o.ends_at ? (o.ends_at as Date).getTime() + p.completionWindowHours * HOUR : null;
      case 'execution_confirmation':
      case 'production': // prepay: entered at the batch's release (back-dated to its deadline when it went by itself)
        return addLocalDays((o.entered_state_at as Date).getTime(), p.executionConfirmationWindowDays, p.timeZone);
      default:
        return null;
    }
  }

  /** The full ledger check (GET /v1/ledger/check), at most once per step. */
  async fullCheck(): Promise<void> {
    if (this.lastCheckedStep === this.sim.step) return;
    this.lastCheckedStep = this.sim.step;
    const res = await this.sim.get('/v1/ledger/check');
    if (res.status !== 200) fail(`ledger check: ${outcome(res)}`);
    if (!res.body.ok) fail(`ledger check found problems: ${JSON.stringify(res.body.problems).slice(0, 1_500)}`);
  }
}

/** Local wall time minus UTC at instant `ms`, in ms (whole seconds). */
function zoneOffset(ms: number, timeZone: string): number {
  const whole = Math.floor(ms / 1000) * 1000;
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })
      .formatToParts(new Date(whole))
      .filter((p) => p.type !== 'literal')
      .map((p) => [p.type, Number(p.value)]),
  ) as Record<string, number>;
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!) - whole;
}

/**
 * `days` calendar days later on the wall clock of `timeZone`: in a repeated hour the
 * earlier instant, in a skipped hour pushed forward by the gap (Temporal's 'compatible').
 */
function addLocalDays(ms: number, days: number, timeZone: string): number {
  const wall = ms + zoneOffset(ms, timeZone) + days * DAY;
  const candidates = [zoneOffset(wall - DAY, timeZone), zoneOffset(wall + DAY, timeZone)].map((o) => wall - o);
  const fits = candidates.filter((t) => t + zoneOffset(t, timeZone) === wall);
  return fits.length ? Math.min(...fits) : wall - zoneOffset(wall - DAY, timeZone);
}

function localDay(ms: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(ms));
}
