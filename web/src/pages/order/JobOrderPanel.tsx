// A prepay order's place in its picture-day job: the student and the access code it was
// ordered with (what staff need when photos went under another code), its photos, and for
// staff the job, collection and batch it is in, and the customer's own order page.
import type { ReactNode } from 'react';
import { api } from '../../lib/api';
import { useResource } from '../../lib/hooks';
import { Link } from '../../lib/router';
import type { JobOrder, JobSummary, Order } from '../../lib/types';
import { DefinitionList, Loaded } from '../../components/ui';

function photosText(jo: JobOrder): ReactNode {
  if (jo.photos.length) return jo.photos.map((p) => p.fileName).join(', ');
  return <span className="muted">{jo.populatedAt ? 'None found for this access code' : 'Not populated yet (after picture day)'}</span>;
}

export function JobOrderPanel({ order, staff }: { order: Order; staff: boolean }) {
  const jobOrder = useResource(() => api.get<JobOrder>(`/v1/orders/${order.id}/job`), [order.id, order.state]);
  return <Loaded resource={jobOrder}>{(jo) => (staff ? <StaffView jo={jo} /> : <CustomerView jo={jo} />)}</Loaded>;
}

function CustomerView({ jo }: { jo: JobOrder }) {
  return (
    <DefinitionList
      items={[
        ['Student', jo.subject.name ?? jo.order.lines[0]?.participantName ?? '—'],
        ['Access code', <span key="c" className="code" data-testid="access-code">{jo.subject.accessCode}</span>],
        ['Photos', photosText(jo)],
      ]}
    />
  );
}

function StaffView({ jo }: { jo: JobOrder }) {
  const job = useResource(() => api.get<JobSummary>(`/v1/jobs/${jo.jobId}`), [jo.jobId, jo.collectionId, jo.batchId]);
  return (
    <Loaded resource={job}>
      {(j) => {
        const collection = j.collections.find((c) => c.id === jo.collectionId);
        const batchIndex = j.batches.findIndex((b) => b.id === jo.batchId);
        return (
          <DefinitionList
            items={[
              ['Job', <Link key="j" to={`/admin/jobs/${j.id}`}>{j.name}</Link>],
              ['Student', jo.subject.name ?? <span key="b" className="muted">Blank card</span>],
              ['Access code', <span key="c" className="code" data-testid="access-code">{jo.subject.accessCode}</span>],
              ['Group', jo.subject.groupName ?? '—'],
              ['Order collection', collection?.name ?? jo.collectionId],
              ['Batch', batchIndex >= 0 ? `Batch ${batchIndex + 1} (${j.batches[batchIndex]?.status === 'open' ? 'open' : 'released to production'})` : 'Not placed yet'],
              ['Photos', photosText(jo)],
              ["Customer's order page", <code key="u">/portal/receipts/{jo.orderId}</code>],
            ]}
          />
        );
      }}
    </Loaded>
  );
}
