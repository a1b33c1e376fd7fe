// The API's shapes as the pages use them (see GET /v1/openapi.json for all of it).

export interface Page<T> {
  data: T[];
  has_more: boolean;
}

export type Role = 'admin' | 'customer' | 'provider';

export interface User {
  role: Role;
  customerId?: string | null;
  providerId?: string | null;
  name: string;
  email: string;
}

export interface WebConfig {
  mode: string;
  timeZone: string;
  demo: { password: string; logins: { role: Role; name: string; email: string }[] } | null;
}

export interface Line {
  id: string;
  description: string;
  serviceId: string | null;
  slotId: string | null;
  quantity: number;
  unitAmount: number;
  amount: number;
  status: 'open' | 'done' | 'cancelled';
  startsAt: string | null;
  endsAt: string | null;
  participantName: string | null;
  refunded: number;
}

export interface Payment {
  id: string;
  method: 'card' | 'account_credit' | string;
  amount: number;
  refunded: number;
  paymentMethod: string | null;
  createdAt: string;
}

export interface Refund {
  id: string;
  sourceType: string;
  orderId: string | null;
  customerId: string;
  amount: number;
  currency: string;
  destination: 'card' | 'account_credit' | string;
  status: 'pending' | 'succeeded' | 'failed' | 'reversed' | string;
  reason: string | null;
  failureReason: string | null;
  attempts: number;
  explanation: unknown;
  createdAt: string;
}

export interface OrderEvent {
  id: string;
  type: string;
  transition: string | null;
  actor: string;
  from: string | null;
  to: string | null;
  reason: string | null;
  data: unknown;
  createdAt: string;
}

export interface QuoteLine {
  lineId: string;
  description: string;
  amount: number;
  refund: number;
  rule: string;
  startsAt: string | null;
  hoursBeforeStart: number | null;
  explanation: string;
}

export interface Quote {
  object: 'cancellation_quote';
  currency: string;
  lines: QuoteLine[];
  serviceFee: { amount: number; refund: number; rule: string; explanation: string } | null;
  total: number;
  destination: { requested: string; card: number; accountCredit: number };
  orderStateAfter: string;
}

export interface CancellationRecord {
  by: string;
  at: string;
  reason: string | null;
  lineIds: string[];
  refunded: number;
  quote: { lines: QuoteLine[]; total: number } | null;
}

export interface Proposal {
  id: string;
  startsAt?: string;
  lines?: { id: string; unitAmount?: number; startsAt?: string }[];
  comment?: string;
  proposedAt: string;
  proposedBy: string;
  total: number;
  startsAtAfter: string | null;
  priceDifference: number;
}

export interface Claim {
  reason: string;
  openedAt: string;
  by: string;
  resolution: { outcome: 'refund' | 'reject'; amount: number; at: string; reason: string | null } | null;
}

export interface Order {
  id: string;
  number: string;
  process: 'booking' | 'direct' | 'prepay' | string;
  /** The version of the process the order runs (kept from its creation). */
  processVersion: string;
  state: string;
  awaiting: string | null;
  deadline: { at: string; action: string } | null;
  customerId: string;
  providerId: string;
  siteId: string | null;
  currency: string;
  startsAt: string | null;
  endsAt: string | null;
  comment: string | null;
  lines: Line[];
  amounts: { subtotal: number; serviceFee: number; total: number; paid: number; refunded: number; refundable: number };
  /** The provider's payout, once the order ended with something payable. */
  payout: { id: string; amount: number; status: 'scheduled' | 'paid' | 'cancelled'; dueAt: string; paidAt: string | null } | null;
  payments: Payment[];
  refunds: Refund[];
  proposal: Proposal | null;
  cancellation: (CancellationRecord & { history?: CancellationRecord[] }) | null;
  claim: Claim | null;
  review: { rating: number; comment: string | null; at: string } | null;
  policies: Partial<Settings> | null;
  events?: OrderEvent[];
  createdAt: string;
  closedAt: string | null;
}

export interface Customer {
  id: string;
  email: string;
  name: string;
  balances: Record<string, number>;
  createdAt: string;
}

export interface Provider {
  id: string;
  email: string;
  name: string;
  payableBalances: Record<string, number>;
  createdAt: string;
}

export interface Transaction {
  id: string;
  type: string;
  amount: number;
  currency: string;
  orderId: string | null;
  causeType: string;
  causeId: string;
  relatedTransactionId: string | null;
  reverses: string | null;
  reversedBy: string | null;
  memo: string | null;
  actor: string;
  createdAt: string;
}

export interface Charge {
  id: string;
  amount: number;
  currency: string;
  description: string;
  refundedAmount: number;
  refundableAmount: number;
}

export interface TopUp {
  id: string;
  amount: number;
  currency: string;
  refundedAmount: number;
  refundableAmount: number;
}

export interface Site {
  id: string;
  address: string;
  customerId: string;
  archived: boolean;
  archivedAt: string | null;
  createdAt: string;
}

export interface Payout {
  id: string;
  providerId: string;
  orderId: string;
  amount: number;
  currency: string;
  status: string;
  dueAt: string;
  paidAt: string | null;
}

export interface Slot {
  id: string;
  serviceId: string;
  startsAt: string;
  endsAt: string;
  capacity: number;
  booked: number;
  available: number;
}

export interface Service {
  id: string;
  providerId: string;
  name: string;
  unitAmount: number;
  currency: string;
  slots: Slot[];
}

export interface Settings {
  timeZone: string;
  defaultCurrency: string;
  confirmationWindowHours: number;
  sameDayConfirmationWindowHours: number;
  paymentWindowHours: number;
  completionWindowHours: number;
  executionConfirmationWindowDays: number;
  payoutDelayDays: number;
  allowCustomerEdits: boolean;
  allowCustomerCancellation: boolean;
  refundOnCustomerCancellation: boolean;
  noRefundWithinHours: number;
  lateCancellationRefundPercent: number;
  refundServiceFeeOnCancellation: boolean;
  defaultRefundDestination: 'account_credit' | 'card';
  serviceFee: { fixed: number; percent: number };
  providerCommissionPercent: number;
}

// Prepay jobs (seed 002): picture-day jobs with a names list of access codes, photos,
// order collections and batches.

export type JobStatus = 'prepay' | 'selling';

/** A product of a job's price list: one of the provider's services without slots. */
export interface JobProduct {
  serviceId: string;
  name: string;
  /** The price each, in the job's currency (minor units). */
  unitAmount: number;
}

export interface Job {
  id: string;
  name: string;
  providerId: string;
  currency: string;
  status: JobStatus;
  manualRevision: boolean;
  batchReleaseAt: string | null;
  pictureDay: string | null;
  sellingAt: string | null;
  createdAt: string;
  /** The job's own order collection (pre-orders and paper orders join it). */
  collectionId: string;
  /** The price list parents pre-order from, in the order offered. */
  products: JobProduct[];
}

export interface JobCollection {
  id: string;
  kind: 'prepay' | 'without_photos';
  name: string;
  createdAt: string;
  /** Orders of the collection per state. */
  orders: Record<string, number>;
}

export interface JobBatch {
  id: string;
  status: 'open' | 'released';
  releaseAt: string | null;
  releasedAt: string | null;
  releasedBy: string | null;
  orders: number;
}

export interface JobSummary extends Job {
  collections: JobCollection[];
  batches: JobBatch[];
  subjects: number;
  photos: number;
}

export interface JobSubject {
  id: string;
  jobId: string;
  name: string | null;
  groupName: string | null;
  accessCode: string;
  createdAt: string;
}

export interface JobPhoto {
  id: string;
  jobId: string;
  accessCode: string | null;
  groupName: string | null;
  fileName: string;
  createdAt: string;
}

export interface JobOrder {
  jobId: string;
  orderId: string;
  subject: { id: string; name: string | null; groupName: string | null; accessCode: string };
  collectionId: string;
  batchId: string | null;
  photos: { id: string; fileName: string }[];
  populatedAt: string | null;
  order: Order;
}

export interface JobOrderRef {
  orderId: string;
  number: string;
  accessCode: string;
  subjectName: string | null;
}

export interface PhotoPopulation {
  collectionId: string;
  populated: (JobOrderRef & { photos: number })[];
  withoutPhotos: JobOrderRef[];
}

export interface CollectionPlacement {
  collectionId: string;
  batchId: string | null;
  placed: JobOrderRef[];
  toRevision: JobOrderRef[];
  withoutPhotos: JobOrderRef[];
  splitCollectionId: string | null;
}

export interface BatchRelease {
  batchId: string;
  releasedAt: string;
  orders: JobOrderRef[];
}

export interface AccessCodeLookup {
  accessCode: string;
  jobId: string;
  providerId: string;
  /** The job's price list: what a parent can pre-order, at these prices. */
  products: JobProduct[];
  jobName: string;
  status: JobStatus;
  currency: string;
  pictureDay: string | null;
  subjectName: string | null;
}
