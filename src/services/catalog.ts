// What is sold: services with a price, and for sessions their slots (start, end,
// capacity). Seats are taken and freed by conditional updates, so a slot is never
// overbooked whatever the interleaving.
import type { Db, Trx } from '../store/db.js';
import { badRequest, notFound, ruleRefused } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type { Services } from './context.js';
import { toPage, type Page, type PageRequest } from './pagination.js';

export interface SlotInput {
  startsAt: string;
  endsAt: string;
  capacity: number;
}

export interface SlotView {
  id: string;
  object: 'slot';
  serviceId: string;
  startsAt: string;
  endsAt: string;
  capacity: number;
  booked: number;
  available: number;
}

export interface ServiceView {
  id: string;
  object: 'service';
  providerId: string;
  name: string;
  unitAmount: number;
  currency: string;
  slots: SlotView[];
  createdAt: string;
}

type SlotRow = { id: string; service_id: string; starts_at: Date; ends_at: Date; capacity: number; booked: number };

function slotView(r: SlotRow): SlotView {
  return {
    id: r.id,
    object: 'slot',
    serviceId: r.service_id,
    startsAt: r.starts_at.toISOString(),
    endsAt: r.ends_at.toISOString(),
    capacity: r.capacity,
    booked: r.booked,
    available: r.capacity - r.booked,
  };
}

const MAX_SLOTS_PER_REQUEST = 500;

export class CatalogService {
  constructor(private readonly s: Services) {}

  async createService(
    trx: Trx,
    input: { providerId: string; name: string; unitAmountMinor: number; currency: string; slots?: SlotInput[] | undefined },
  ): Promise<ServiceView> {
    const provider = await trx.selectFrom('providers').select('id').where('id', '=', input.providerId).executeTakeFirst();
    if (!provider) throw notFound('provider', input.providerId);
    const id = newId('service');
    const now = this.s.clock.now();
    await trx
      .insertInto('services')
      .values({ id, provider_id: input.providerId, name: input.name, unit_amount: input.unitAmountMinor, currency: input.currency, created_at: now })
      .execute();
    if (input.slots?.length) await this.addSlots(trx, id, input.slots);
    return this.getService(trx, id);
  }

  async addSlots(trx: Trx, serviceId: string, slots: SlotInput[]): Promise<SlotView[]> {
    if (slots.length > MAX_SLOTS_PER_REQUEST) throw badRequest('too_many_slots', `At most ${MAX_SLOTS_PER_REQUEST} slots per request.`, { param: 'slots' });
    const rows = slots.map((slot, i) => {
      const startsAt = new Date(slot.startsAt);
      const endsAt = new Date(slot.endsAt);
      if (!(endsAt > startsAt)) throw badRequest('parameter_invalid', `Slot ${i} must end after it starts.`, { param: `slots.${i}.endsAt` });
      return { id: newId('slot'), service_id: serviceId, starts_at: startsAt, ends_at: endsAt, capacity: slot.capacity };
    });
    if (rows.length === 0) return [];
    const inserted = await trx.insertInto('slots').values(rows).returningAll().execute();
    return inserted.map(slotView);
  }

  async getService(db: Db | Trx, id: string): Promise<ServiceView> {
    const row = await db.selectFrom('services').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('service', id);
    const slots = await db.selectFrom('slots').selectAll().where('service_id', '=', id).orderBy('starts_at').orderBy('id').execute();
    return {
      id: row.id,
      object: 'service',
      providerId: row.provider_id,
      name: row.name,
      unitAmount: Number(row.unit_amount),
      currency: row.currency,
      slots: slots.map(slotView),
      createdAt: row.created_at.toISOString(),
    };
  }

  async listServices(db: Db, filter: { providerId?: string | undefined }, page: PageRequest): Promise<Page<ServiceView>> {
    let q = db.selectFrom('services').select('id').orderBy('id', 'desc').limit(page.limit + 1);
    if (filter.providerId) q = q.where('provider_id', '=', filter.providerId);
    if (page.startingAfter) q = q.where('id', '<', page.startingAfter);
    const ids = await q.execute();
    const views = [];
    for (const { id } of ids) views.push(await this.getService(db, id));
    return toPage(views, page.limit);
  }

  async getSlot(db: Db | Trx, id: string): Promise<SlotView & { serviceProviderId: string; unitAmount: number; currency: string; serviceName: string }> {
    const row = await db
      .selectFrom('slots as sl')
      .innerJoin('services as sv', 'sv.id', 'sl.service_id')
      .select(['sl.id', 'sl.service_id', 'sl.starts_at', 'sl.ends_at', 'sl.capacity', 'sl.booked', 'sv.provider_id', 'sv.unit_amount', 'sv.currency', 'sv.name'])
      .where('sl.id', '=', id)
      .executeTakeFirst();
    if (!row) throw notFound('slot', id);
    return { ...slotView(row), serviceProviderId: row.provider_id, unitAmount: Number(row.unit_amount), currency: row.currency, serviceName: row.name };
  }

  /** Takes `seats` in the slot or refuses (422 slot_full) without changing anything. */
  async takeSeats(trx: Trx, slotId: string, seats: number): Promise<void> {
    const updated = await trx
      .updateTable('slots')
      .set((eb) => ({ booked: eb('booked', '+', seats) }))
      .where('id', '=', slotId)
      .where((eb) => eb(eb('booked', '+', seats), '<=', eb.ref('capacity')))
      .returning('id')
      .executeTakeFirst();
    if (updated) return;
    const slot = await trx.selectFrom('slots').select(['capacity', 'booked']).where('id', '=', slotId).executeTakeFirst();
    if (!slot) throw notFound('slot', slotId);
    throw ruleRefused('slot_full', `This slot has ${slot.capacity - slot.booked} free seat(s); ${seats} requested.`, {
      slotId,
      available: slot.capacity - slot.booked,
    });
  }

  async releaseSeats(trx: Trx, slotId: string, seats: number): Promise<void> {
    await trx
      .updateTable('slots')
      .set((eb) => ({ booked: eb('booked', '-', seats) }))
      .where('id', '=', slotId)
      .execute();
  }
}
