// What the jobs API answers: jobs, subjects (the names list), photos, collections,
// batches and job orders (an order with its place in the job).
import type { Selectable } from 'kysely';
import type { JobsTable } from '../../store/schema.js';
import type { OrderView } from '../orders/views.js';

export interface JobPhotoRef {
  id: string;
  fileName: string;
}

/** A product of the job's price list: one of the provider's services without slots. */
export interface JobProduct {
  serviceId: string;
  name: string;
  unitAmount: number;
}

export interface JobView {
  id: string;
  object: 'job';
  name: string;
  providerId: string;
  currency: string;
  status: 'prepay' | 'selling';
  manualRevision: boolean;
  batchReleaseAt: string | null;
  pictureDay: string | null;
  sellingAt: string | null;
  createdAt: string;
  /** The job's own order collection (pre-orders and added paper orders join it). */
  collectionId: string;
  /** The price list customers pre-order from. */
  products: JobProduct[];
}

export interface JobSummaryView extends JobView {
  collections: { id: string; kind: 'prepay' | 'without_photos'; name: string; createdAt: string; orders: Record<string, number> }[];
  batches: { id: string; status: 'open' | 'released'; releaseAt: string | null; releasedAt: string | null; releasedBy: string | null; orders: number }[];
  subjects: number;
  photos: number;
}

export interface SubjectView {
  id: string;
  object: 'job_subject';
  jobId: string;
  name: string | null;
  groupName: string | null;
  accessCode: string;
  createdAt: string;
}

export interface PhotoView {
  id: string;
  object: 'job_photo';
  jobId: string;
  accessCode: string | null;
  groupName: string | null;
  fileName: string;
  createdAt: string;
}

export interface JobOrderView {
  object: 'job_order';
  jobId: string;
  jobName: string;
  orderId: string;
  subject: { id: string; name: string | null; groupName: string | null; accessCode: string };
  collectionId: string;
  batchId: string | null;
  /** The order's batch: when it goes (or went) to production; releaseAt null means by hand. */
  batch: { id: string; status: 'open' | 'released'; releaseAt: string | null; releasedAt: string | null } | null;
  photos: JobPhotoRef[];
  populatedAt: string | null;
  order: OrderView;
}

type JobRow = Omit<Selectable<JobsTable>, 'updated_at'>;

export function jobView(r: JobRow, collectionId: string, products: JobProduct[]): JobView {
  return {
    id: r.id,
    object: 'job',
    name: r.name,
    providerId: r.provider_id,
    currency: r.currency,
    status: r.status,
    manualRevision: r.manual_revision,
    batchReleaseAt: r.batch_release_at?.toISOString() ?? null,
    pictureDay: r.picture_day?.toISOString() ?? null,
    sellingAt: r.selling_at?.toISOString() ?? null,
    createdAt: r.created_at.toISOString(),
    collectionId,
    products,
  };
}

export function subjectView(r: { id: string; job_id: string; name: string | null; group_name: string | null; access_code: string; created_at: Date }): SubjectView {
  return { id: r.id, object: 'job_subject', jobId: r.job_id, name: r.name, groupName: r.group_name, accessCode: r.access_code, createdAt: r.created_at.toISOString() };
}

export function photoView(r: { id: string; job_id: string; access_code: string | null; group_name: string | null; file_name: string; created_at: Date }): PhotoView {
  return { id: r.id, object: 'job_photo', jobId: r.job_id, accessCode: r.access_code, groupName: r.group_name, fileName: r.file_name, createdAt: r.created_at.toISOString() };
}

/** job_orders.photos as stored (jsonb, parsed by the driver). */
export function photoRefs(stored: unknown): JobPhotoRef[] {
  const list = typeof stored === 'string' ? (JSON.parse(stored) as unknown) : stored;
  return Array.isArray(list) ? (list as JobPhotoRef[]) : [];
}
