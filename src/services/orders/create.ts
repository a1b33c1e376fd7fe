// Creating an order: validate the lines (free lines, service lines, slot lines), take
// the amounts and the policy snapshot from the settings, give it a human number, and
// run the process's create transition (which reserves seats and sets the deadline).
import type { Trx } from '../../store/db.js';
import { badRequest, notFound, ruleRefused, type SettleError } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import { getProcess, isProcessName, START } from '../../domain/process/index.js';
import type { Actor } from '../context.js';
import type { TransitionContext, TransitionDeps } from './context.js';
import { amountsFor, lineAmount, refusePastStarts } from './terms.js';
import { serviceTimes, type LineRow, type OrderRow } from './records.js';
import { runTransition, type TransitionRequest } from './engine.js';
import { orderEscrow } from '../../ledger/accounts.js';
import { DEFERRED_MARK } from '../../store/pipeline-marks.js';

export interface LineInput {
  description?: string | undefined;
  serviceId?: string | undefined;
  slotId?: string | undefined;
  quantity: number;
  unitAmount?: number | undefined;
  startsAt?: string | undefined;
  endsAt?: string | undefined;
  participantName?: string | undefined;
}

export interface CreateOrderInput {
  process: string;
  customerId: string;
  providerId: string;
  currency: string;
  lines: LineInput[];
  siteId?: string | undefined;
  comment?: string | undefined;
  onBehalfOf?: 'customer' | 'provider' | undefined;
}

const MAX_LINES = 100;

export async function createOrder(
  deps: TransitionDeps,
  trx: Trx,
  input: CreateOrderInput,
  actor: Actor,
  idempotencyKey: string,
  respond?: TransitionRequest['respond'],
): Promise<TransitionContext> {
  if (!isProcessName(input.process)) throw badRequest('parameter_invalid', `Unknown process '${input.process}' (booking or direct).`, { param: 'process' });
  const process = getProcess(input.process)!;
  if (input.lines.length === 0 || input.lines.length > MAX_LINES) {
    throw badRequest('parameter_invalid', `An order needs 1 to ${MAX_LINES} lines.`, { param: 'lines' });
  }
  if (input.siteId) {
    const site = await trx.selectFrom('sites').select(['customer_id', 'archived_at']).where('id', '=', input.siteId).executeTakeFirst();
    if (!site) throw notFound('site', input.siteId);
    if (site.customer_id !== input.customerId) throw ruleRefused('site_of_other_customer', 'That site belongs to another customer.', { param: 'siteId' });
    if (site.archived_at) throw ruleRefused('site_archived', 'That site is archived; restore it first.', { param: 'siteId' });
  }
  const now = deps.s.clock.now();
  const orderId = newId('order');
  const lines: LineRow[] = [];
  for (const [i, l] of input.lines.entries()) lines.push(await resolveLine(deps, trx, orderId, i, l, input));
  refusePastStarts(lines, null, now, actor.role);
  const policies = await deps.s.settings.get(trx);
  const amounts = amountsFor(lines, policies);
  const times = serviceTimes(lines);
  const party = actor.role === 'customer' ? 'customer' : actor.role === 'provider' ? 'provider' : (input.onBehalfOf ?? 'customer');
  // The order, its lines and its escrow account (where its payments are held) in one
  // statement, deferred: it goes out with the create transition's write (one round trip on
  // PostgreSQL, one call into PGlite). Nothing is read back: the order row is the one built
  // here, its number from this process's block (order-numbers.ts). Its foreign keys check the
  // customer and the provider, so an unknown one fails that write.
  const policiesJson = JSON.stringify(policies);
  const order: OrderRow = {
    id: orderId,
    number: await deps.orderNumbers.next(trx),
    process: process.name,
    process_version: process.version,
    state: START,
    awaiting: null,
    customer_id: input.customerId,
    provider_id: input.providerId,
    site_id: input.siteId ?? null,
    currency: input.currency,
    starts_at: times.startsAt,
    ends_at: times.endsAt,
    subtotal: amounts.subtotal,
    service_fee: amounts.serviceFee,
    paid: 0,
    refunded: 0,
    service_fee_refunded: 0,
    policies: JSON.parse(policiesJson) as OrderRow['policies'],
    comment: input.comment ?? null,
    proposal: null,
    cancellation: null,
    claim: null,
    review: null,
    created_by: party,
    last_edit_by: null,
    created_at: now,
    last_edit_at: now,
    entered_state_at: now,
    closed_at: null,
    updated_at: now,
  };
  const escrow = deps.s.ledger.openingRows(trx, orderEscrow(orderId, input.currency), now);
  const insert = trx
    .with('inserted_lines', (db) => db.insertInto('order_lines').values(lines).returning('id'))
    .with('escrow_account', (db) => db.insertInto('accounts').values(escrow.account).returning('id'))
    .with('escrow_balances', (db) => db.insertInto('account_balances').values(escrow.balances).returning('account_id'))
    .insertInto('orders')
    .values({ ...order, policies: policiesJson, proposal: null, cancellation: null, claim: null, review: null })
    .compile();
  try {
    await trx.executeQuery({ ...insert, sql: insert.sql + DEFERRED_MARK });
    return await runTransition(deps, trx, {
      orderId,
      transition: 'create',
      actor,
      params: { onBehalfOf: input.onBehalfOf },
      idempotencyKey,
      now,
      ...(respond ? { respond } : {}),
      record: { order, lines, payments: [], deadline: null, payout: null },
    });
  } catch (err) {
    throw unknownParty(err, input) ?? err;
  }
}

/**
 * The order's foreign keys check that its customer and provider exist (no read of its own
 * first): a violation of one of them is that party not found.
 */
function unknownParty(err: unknown, input: CreateOrderInput): SettleError | null {
  const e = err as { code?: string; constraint?: string };
  if (e?.code !== FOREIGN_KEY_VIOLATION) return null;
  if (e.constraint === 'orders_customer_id_fkey') return notFound('customer', input.customerId);
  if (e.constraint === 'orders_provider_id_fkey') return notFound('provider', input.providerId);
  return null;
}

const FOREIGN_KEY_VIOLATION = '23503';

async function resolveLine(deps: TransitionDeps, trx: Trx, orderId: string, position: number, l: LineInput, order: CreateOrderInput): Promise<LineRow> {
  const param = `lines.${position}`;
  let description = l.description;
  let unitAmount = l.unitAmount;
  let serviceId = l.serviceId ?? null;
  let startsAt = l.startsAt ? new Date(l.startsAt) : null;
  let endsAt = l.endsAt ? new Date(l.endsAt) : null;
  if (l.slotId) {
    const slot = await deps.catalog.getSlot(trx, l.slotId);
    if (serviceId && slot.serviceId !== serviceId) throw ruleRefused('slot_of_other_service', `Slot ${l.slotId} is not a slot of ${serviceId}.`, { param: `${param}.slotId` });
    serviceId = slot.serviceId;
    startsAt = new Date(slot.startsAt);
    endsAt = new Date(slot.endsAt);
  }
  if (serviceId) {
    const service = await trx.selectFrom('services').selectAll().where('id', '=', serviceId).executeTakeFirst();
    if (!service) throw notFound('service', serviceId);
    if (service.provider_id !== order.providerId) throw ruleRefused('service_of_other_provider', `Service ${serviceId} is sold by another provider.`, { param: `${param}.serviceId` });
    if (service.currency !== order.currency) throw ruleRefused('currency_mismatch', `Service ${serviceId} is priced in ${service.currency}, the order is in ${order.currency}.`, { param: `${param}.serviceId` });
    description ??= service.name;
    unitAmount ??= Number(service.unit_amount);
  }
  if (!description) throw badRequest('parameter_missing', `Line ${position} needs a description or a serviceId.`, { param: `${param}.description` });
  if (unitAmount === undefined) throw badRequest('parameter_missing', `Line ${position} needs a unitAmount.`, { param: `${param}.unitAmount` });
  if (startsAt && Number.isNaN(startsAt.getTime())) throw badRequest('parameter_invalid', `Line ${position} startsAt is not a time.`, { param: `${param}.startsAt` });
  if (endsAt && Number.isNaN(endsAt.getTime())) throw badRequest('parameter_invalid', `Line ${position} endsAt is not a time.`, { param: `${param}.endsAt` });
  if (startsAt && endsAt && endsAt <= startsAt) throw badRequest('parameter_invalid', `Line ${position} must end after it starts.`, { param: `${param}.endsAt` });
  if (endsAt && !startsAt) throw badRequest('parameter_missing', `Line ${position} has endsAt but no startsAt.`, { param: `${param}.startsAt` });
  return {
    id: newId('line'),
    order_id: orderId,
    position,
    description,
    service_id: serviceId,
    slot_id: l.slotId ?? null,
    quantity: l.quantity,
    unit_amount: unitAmount,
    amount: lineAmount(unitAmount, l.quantity),
    status: 'open',
    starts_at: startsAt,
    ends_at: endsAt,
    participant_name: l.participantName ?? null,
    refunded: 0,
    done_at: null,
    cancelled_at: null,
  };
}
