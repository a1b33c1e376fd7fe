// Batch shipping: the job's batches (one open at a time) with their orders and shipping
// deadline, and "Release to production" for the open one — otherwise it goes by itself at
// the deadline.
import { useState } from 'react';
import { api } from '../../../lib/api';
import type { BatchRelease, JobBatch } from '../../../lib/types';
import { ErrorNote, useAction } from '../../../components/Feedback';
import { Modal } from '../../../components/Modal';
import { Countdown, Empty, Loaded, Section, Time } from '../../../components/ui';
import { JobOrdersTable, useJobOrders } from './Collections';

function who(actor: string | null): string {
  if (!actor) return '';
  return actor === 'system' ? 'at the deadline' : 'by staff';
}

export function Batches({ jobId, batches, version, onChange }: { jobId: string; batches: JobBatch[]; version: number; onChange: () => void }) {
  return (
    <Section title="Batches">
      <p className="hint">Placed orders wait in the job's open batch; they go to the lab when the batch is released to production.</p>
      {batches.length ? batches.map((b, i) => <Batch key={b.id} jobId={jobId} batch={b} index={i + 1} version={version} onChange={onChange} />) : <Empty>No batch yet: it opens when the first orders are placed.</Empty>}
    </Section>
  );
}

function Batch({ jobId, batch, index, version, onChange }: { jobId: string; batch: JobBatch; index: number; version: number; onChange: () => void }) {
  const orders = useJobOrders(jobId, { batchId: batch.id }, version);
  const [confirming, setConfirming] = useState(false);
  const act = useAction();
  const release = async () => {
    const done = await act.run(() => api.post<BatchRelease>(`/v1/jobs/${jobId}/batches/${batch.id}/release`, {}), (r) => `Batch ${index} released to production: ${r.orders.length} order${r.orders.length === 1 ? '' : 's'}.`);
    if (done) {
      setConfirming(false);
      onChange();
    }
  };
  const title = `Batch ${index}`;
  return (
    <div className="batch" role="group" aria-label={title} data-batch={batch.id}>
      <h3>
        {title} <span className={`badge badge-batch-${batch.status}`}>{batch.status === 'open' ? 'Open' : 'Released to production'}</span>
      </h3>
      <p>
        {batch.orders} order{batch.orders === 1 ? '' : 's'}.{' '}
        {batch.status === 'open' ? (
          batch.releaseAt ? (
            <>
              Goes to production at the batch shipping deadline, <Time iso={batch.releaseAt} /> (<Countdown at={batch.releaseAt} />).
            </>
          ) : (
            'No shipping deadline: release it by hand.'
          )
        ) : (
          <>
            Released <Time iso={batch.releasedAt} /> {who(batch.releasedBy)}.
          </>
        )}
      </p>
      <Loaded resource={orders}>{(list) => (list.length ? <JobOrdersTable orders={list} label={`Orders of ${title}`} /> : null)}</Loaded>
      {batch.status === 'open' ? (
        <div className="button-row">
          <button type="button" className="button-primary" disabled={batch.orders === 0} onClick={() => setConfirming(true)}>
            Release to production
          </button>
        </div>
      ) : null}
      <Modal title={`Release ${title} to production?`} open={confirming} onClose={() => setConfirming(false)}>
        <p>
          The {batch.orders} order{batch.orders === 1 ? '' : 's'} of this batch go to the lab now; their customers can then confirm receipt or complain. Orders placed later open a
          new batch.
        </p>
        <ErrorNote error={act.error} />
        <div className="button-row">
          <button type="button" className="button-primary" disabled={act.pending} onClick={() => void release()}>
            Release now
          </button>
          <button type="button" className="button-secondary" onClick={() => setConfirming(false)}>
            Not yet
          </button>
        </div>
      </Modal>
    </div>
  );
}
