// The invariants the simulation checks after every step (see sim.ts): money, deadlines,
// seats and history, computed from the database independently of the engine; and the
// full ledger check.
import { sql } from 'kysely';
import { DAY, DEADLINE_OF_STATE, DIRECT_STATES, HOUR, iso, PLAUSIBLE, TERMINAL, type OrderRef, type Service } from './actions.js';
import { fail, outcome, type Res, type World } from './world.js';

/** What the checks need from the simulation. */
export interface InvariantContext {
  readonly world: World;
  readonly orders: readonly OrderRef[];
  readonly orderIndex: ReadonlyMap<string, number>;
  readonly services: readonly Service[];
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
             o.last_edit_at, o.closed_at, o.policies,
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
      if (!direct && o.process !== 'booking') fail(`${where}: unknown process`);
      if (direct && !DIRECT_STATES.has(o.state)) fail(`${where}: not a state of the direct process`);
      if (!direct && !(o.state in PLAUSIBLE)) fail(`${where}: not a state of the booking process`);
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
      if (direct) {
        // Paid up front: once delivering, the whole total was paid (a free order pays nothing).
        if (o.state !== 'payment' && !(o.state === 'cancelled' && paid === 0) && paid !== Number(o.subtotal) + Number(o.service_fee)) {
          fail(`${where}: paid ${paid}, the total is ${Number(o.subtotal) + Number(o.service_fee)}`);
        }
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
      if (['execution_confirmation', 'claim', 'closed', 'cancelled'].includes(o.state) && o.open_lines !== 0) fail(`${where}: ${o.open_lines} line(s) still open`);
      if (o.state === 'cancelled' && o.live_lines !== 0 && o.closed_at === null) fail(`${where}: cancelled without closed_at`);
      if (TERMINAL.has(o.state) && !o.closed_at) fail(`${where}: terminal without closed_at`);

      // Deadlines: exactly one for a state that has one; terminal ones only for a scheduled payout.
      // The direct process has no deadlines of its own (staff drive it), only the payout's.
      const wanted = direct ? undefined : DEADLINE_OF_STATE[o.state];
      if (wanted) {
        if (o.n_deadlines !== 1 || o.d_transition !== wanted) fail(`${where}: deadline ${o.d_transition ?? 'none'} (${o.n_deadlines} rows), expected ${wanted}`);
        const expectedDue = this.expectedDue(o);
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
    // a direct order's only deadline is its payout's.
    const stray = await sql<{ n: number }>`
      select count(*)::int as n from deadlines d left join orders o on o.id = d.order_id
      where o.id is null or o.process not in ('booking', 'direct') or (o.process = 'direct' and d.transition <> '@payout')`.execute(db);
    if (stray.rows[0]!.n) fail(`deadlines on unknown orders or processes, or a direct order's own deadline: ${stray.rows[0]!.n}`);

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
