// An order collection of a job (seed 002's "Review and Create"): its orders with student,
// access code, state and photos; "Populate photos" (orders left without are an error
// message to act on), "Place order(s) now" (with photos → the open batch or manual revision,
// without → a collection of their own), and "Add order" for a paper order.
import { useState } from 'react';
import { api } from '../../../lib/api';
import { nameOf, useDirectory } from '../../../lib/directory';
import { useResource } from '../../../lib/hooks';
import { allPages } from '../../../lib/pages';
import { Link } from '../../../lib/router';
import { words } from '../../../lib/format';
import type { CollectionPlacement, JobCollection, JobOrder, JobOrderRef, JobSubject, JobSummary, PhotoPopulation } from '../../../lib/types';
import { ErrorNote, useAction } from '../../../components/Feedback';
import { Modal } from '../../../components/Modal';
import { Empty, Loaded, Money, Section, StateBadge, TableWrap } from '../../../components/ui';
import { AddOrderForm } from './AddOrder';

function refText(o: JobOrderRef): string {
  return `${o.number} — ${o.subjectName ?? 'blank card'} (code ${o.accessCode})`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The orders of a job, of one collection or batch or in one state (every page). */
export function useJobOrders(jobId: string, query: Record<string, string>, version: number) {
  const key = JSON.stringify(query);
  return useResource(async () => (await allPages<JobOrder>(`/v1/jobs/${jobId}/orders`, query, (o) => o.orderId)).items, [jobId, key, version]);
}

function BlankCard({ participant }: { participant: string | null }) {
  return participant ? (
    <>
      {participant} <span className="muted small">(blank card)</span>
    </>
  ) : (
    <span className="muted">Blank card</span>
  );
}

export function JobOrdersTable({ orders, label }: { orders: JobOrder[]; label: string }) {
  const dir = useDirectory();
  return (
    <TableWrap label={label}>
      <thead>
        <tr>
          <th scope="col">Order</th>
          <th scope="col">Student</th>
          <th scope="col">Access code</th>
          <th scope="col">Customer</th>
          <th scope="col">State</th>
          <th scope="col">Photos</th>
          <th scope="col" className="num">
            Total
          </th>
        </tr>
      </thead>
      <tbody>
        {orders.map((jo) => (
          <tr key={jo.orderId} data-order={jo.order.number}>
            <td>
              <Link to={`/admin/orders/${jo.orderId}`}>{jo.order.number}</Link>
            </td>
            <td>{jo.subject.name ?? <BlankCard participant={jo.order.lines[0]?.participantName ?? null} />}</td>
            <td>
              <span className="code">{jo.subject.accessCode}</span>
            </td>
            <td>{nameOf(dir, jo.order.customerId)}</td>
            <td>
              <StateBadge state={jo.order.state} />
            </td>
            <td data-testid="photos">
              {jo.photos.length ? (
                <span title={jo.photos.map((p) => p.fileName).join(', ')}>
                  {jo.photos.length}: {jo.photos.map((p) => p.fileName).join(', ')}
                </span>
              ) : jo.populatedAt ? (
                <span className="muted">none found</span>
              ) : (
                <span className="muted">not populated</span>
              )}
            </td>
            <td className="num">
              <Money minor={jo.order.amounts.total} currency={jo.order.currency} />
            </td>
          </tr>
        ))}
      </tbody>
    </TableWrap>
  );
}

export function CollectionPanel({
  job,
  collection,
  subjects,
  version,
  onChange,
}: {
  job: JobSummary;
  collection: JobCollection;
  subjects: JobSubject[];
  version: number;
  onChange: () => void;
}) {
  const orders = useJobOrders(job.id, { collectionId: collection.id }, version);
  const [population, setPopulation] = useState<PhotoPopulation | null>(null);
  const [placement, setPlacement] = useState<CollectionPlacement | null>(null);
  const [adding, setAdding] = useState(false);
  const act = useAction();
  const populate = async () => {
    setPlacement(null);
    const done = await act.run(
      () => api.post<PhotoPopulation>(`/v1/jobs/${job.id}/collections/${collection.id}/populate`, {}),
      (r) => `Photos populated into ${plural(r.populated.length, 'order')}${r.withoutPhotos.length ? `; ${plural(r.withoutPhotos.length, 'order')} without photos` : ''}.`,
    );
    if (done) {
      setPopulation(done);
      onChange();
    }
  };
  const place = async () => {
    const done = await act.run(
      () => api.post<CollectionPlacement>(`/v1/jobs/${job.id}/collections/${collection.id}/place`, {}),
      (r) => `Placed ${plural(r.placed.length + r.toRevision.length, 'order')}${r.withoutPhotos.length ? `; ${plural(r.withoutPhotos.length, 'order')} without photos split off` : ''}.`,
    );
    if (done) {
      setPopulation(null);
      setPlacement(done);
      onChange();
    }
  };
  const counts = Object.entries(collection.orders).filter(([, n]) => n > 0);
  const split = placement?.splitCollectionId ? job.collections.find((c) => c.id === placement.splitCollectionId) : null;
  const prepay = collection.kind === 'prepay';
  return (
    <Section
      id={`collection-${collection.id}`}
      title={`Order collection: ${collection.name}`}
      actions={
        prepay ? (
          <button type="button" className="button-secondary" onClick={() => setAdding(true)} disabled={job.status !== 'prepay'} title={job.status !== 'prepay' ? 'The job sells: pre-orders are closed.' : undefined}>
            Add order
          </button>
        ) : null
      }
    >
      <p className="hint">
        {prepay ? "The job's pre-orders and paper orders." : 'Orders that had no photos when their collection was placed (e.g. retakes): populate and place them once their photos are in.'}
        {counts.length ? ` Orders: ${counts.map(([state, n]) => `${n} ${words(state).toLowerCase()}`).join(', ')}.` : ''}
      </p>
      <Loaded resource={orders}>
        {(all) => {
          const shown = all.filter((o) => o.order.state !== 'cancelled');
          const cancelled = all.length - shown.length;
          const waiting = all.filter((o) => o.order.state === 'collection').length;
          return (
            <>
              {shown.length ? <JobOrdersTable orders={shown} label={`Orders of ${collection.name}`} /> : <Empty>No orders in this collection.</Empty>}
              {cancelled ? (
                <p className="hint">
                  {plural(cancelled, 'cancelled order')} left the collection; find {cancelled === 1 ? 'it' : 'them'} with the search under <Link to="/admin/orders?state=cancelled">Orders</Link>.
                </p>
              ) : null}
              <div className="button-row">
                <button type="button" className="button-primary" disabled={act.pending || waiting === 0} onClick={() => void populate()}>
                  Populate photos
                </button>
                <button type="button" className="button-primary" disabled={act.pending || waiting === 0} onClick={() => void place()}>
                  Place order(s) now
                </button>
                <span className="hint">{waiting ? `${plural(waiting, 'paid order')} to populate and place.` : 'No paid orders waiting here.'}</span>
              </div>
            </>
          );
        }}
      </Loaded>
      <ErrorNote error={act.error} />
      {population && population.withoutPhotos.length ? (
        <div className="error-note" role="alert" data-testid="without-photos">
          <strong>Error populating photos: {plural(population.withoutPhotos.length, 'order')} without photos.</strong>
          <ul className="result-list">
            {population.withoutPhotos.map((o) => (
              <li key={o.orderId}>
                <Link to={`/admin/orders/${o.orderId}`}>{refText(o)}</Link>
              </li>
            ))}
          </ul>
          Check that their photos were recorded under the access code the customer ordered with (re-tag them under Photos), then populate again. Or place the orders now: those
          without photos move into a new order collection.
        </div>
      ) : null}
      {placement ? (
        <div className="callout" role="status" data-testid="placement">
          {placement.placed.length ? <p>{plural(placement.placed.length, 'order')} placed into the open batch — not at the lab yet: release the batch to production under Batches.</p> : null}
          {placement.toRevision.length ? <p>{plural(placement.toRevision.length, 'order')} went to manual revision: revise and release them one by one.</p> : null}
          {placement.withoutPhotos.length ? (
            <p>
              {plural(placement.withoutPhotos.length, 'order')} without photos moved to a new order collection
              {split ? (
                <>
                  : <a href={`#collection-${split.id}-heading`}>{split.name}</a>
                </>
              ) : null}
              .
            </p>
          ) : null}
          {!placement.placed.length && !placement.toRevision.length && !placement.withoutPhotos.length ? <p>Nothing was left to place.</p> : null}
        </div>
      ) : null}
      <Modal title="Add a paper order" open={adding} onClose={() => setAdding(false)} wide>
        {adding ? (
          <AddOrderForm
            job={job}
            subjects={subjects}
            onDone={() => {
              setAdding(false);
              onChange();
            }}
          />
        ) : null}
      </Modal>
    </Section>
  );
}
