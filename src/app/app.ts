// Composition root: wires the store, clock, ledger, payment provider and use cases.
import type { Store } from '../store/db.js';
import { Ledger } from '../ledger/ledger.js';
import { SandboxClock, systemClock, type Clock } from '../scheduler/clock.js';
import { SandboxPaymentProvider } from '../payments/sandbox.js';
import type { PaymentProvider } from '../payments/provider.js';
import type { Services } from '../services/context.js';
import { SettingsService } from '../services/settings.js';
import { PartyService } from '../services/parties.js';
import { CardRefundService } from '../services/card-refunds.js';
import { TopUpService } from '../services/top-ups.js';
import { ChargeService } from '../services/charges.js';
import { AdjustmentService } from '../services/adjustments.js';
import { ApiKeyService } from '../services/api-keys.js';
import { CatalogService } from '../services/catalog.js';
import { SiteService } from '../services/sites.js';
import { OrderNumbers } from '../services/orders/order-numbers.js';
import { OrderCopies, type OrderCopiesOptions } from '../services/orders/order-copies.js';
import { OrderService } from '../services/orders/service.js';
import { DeadlineRunner } from '../scheduler/deadlines.js';
import { WebAuthService } from '../services/auth/web-auth.js';
import { JobService } from '../services/jobs/jobs.js';
import { JobOrderService } from '../services/jobs/job-orders.js';
import { randomUUID } from 'node:crypto';

export type Mode = 'sandbox' | 'live';

export interface App {
  mode: Mode;
  services: Services;
  sandboxClock: SandboxClock | null;
  apiKeys: ApiKeyService;
  /** Web logins: passwords, sessions, password-set links, login throttling. */
  webAuth: WebAuthService;
  parties: PartyService;
  cardRefunds: CardRefundService;
  topUps: TopUpService;
  charges: ChargeService;
  adjustments: AdjustmentService;
  catalog: CatalogService;
  sites: SiteService;
  orders: OrderService;
  /** Prepay jobs (seed 002): the job, its names list and photos. */
  jobs: JobService;
  /** Prepay jobs: pre-orders, photo population, placement, revision, batches. */
  jobOrders: JobOrderService;
  /** Copies of the orders this process wrote last (order-copies.ts). */
  orderCopies: OrderCopies;
  deadlines: DeadlineRunner;
}

export interface AppOptions {
  mode?: Mode;
  payments?: PaymentProvider;
  /** Told when a deadline could not fire (it is then dropped and recorded on the order). */
  onDeadlineError?: (err: unknown, deadline: { orderId: string; transition: string }) => void;
  /** Limits of the order copies (tests: `{ maxCopies: 0 }` keeps none). */
  orderCopies?: Partial<OrderCopiesOptions>;
}

export async function createApp(store: Store, options: AppOptions = {}): Promise<App> {
  const mode = options.mode ?? 'sandbox';
  const sandboxClock = mode === 'sandbox' ? new SandboxClock(store) : null;
  if (sandboxClock) await sandboxClock.refresh();
  const clock: Clock = sandboxClock ?? systemClock;
  if (mode === 'live' && !options.payments) {
    throw new Error('live mode needs a real payment provider; only the sandbox provider exists so far');
  }
  const services: Services = {
    store,
    ledger: new Ledger(),
    clock,
    payments: options.payments ?? new SandboxPaymentProvider(),
    settings: new SettingsService(clock),
  };
  const parties = new PartyService(services);
  const cardRefunds = new CardRefundService(services);
  const catalog = new CatalogService(services);
  const orderCopies = new OrderCopies(options.orderCopies);
  const orders = new OrderService({ s: services, catalog, cardRefunds, orderNumbers: new OrderNumbers(), orderCopies }, options.onDeadlineError);
  const jobs = new JobService(services);
  const jobOrders = new JobOrderService(services, jobs, orders);
  const deadlines = new DeadlineRunner(store, (d) => orders.fireDeadline(d), () => clock.now(), `settle-${process.pid}-${randomUUID().slice(0, 8)}`, {
    fireMany: (batch) => orders.fireDeadlines(batch),
    sweepFirst: (now) => jobOrders.releaseDueBatches(now),
  });
  return {
    mode,
    services,
    sandboxClock,
    apiKeys: new ApiKeyService(clock, mode),
    webAuth: new WebAuthService(store),
    parties,
    cardRefunds,
    topUps: new TopUpService(services, parties, cardRefunds),
    charges: new ChargeService(services),
    adjustments: new AdjustmentService(services, parties),
    catalog,
    sites: new SiteService(services),
    orders,
    jobs,
    jobOrders,
    orderCopies,
    deadlines,
  };
}
