// Manual revision (seed 002, memory mates): placed orders wait here; staff choose the
// order's final photos from the job's photos of its student and group, then release the
// orders one by one into the job's open batch.
import { useState } from 'react';
import { api } from '../../../lib/api';
import { Link } from '../../../lib/router';
import type { JobOrder, JobPhoto } from '../../../lib/types';
import { ErrorNote, useAction } from '../../../components/Feedback';
import { Empty, Loaded, Section } from '../../../components/ui';
import { useJobOrders } from './Collections';

export function Revision({ jobId, manualRevision, photos, version, onChange }: { jobId: string; manualRevision: boolean; photos: JobPhoto[]; version: number; onChange: () => void }) {
  const orders = useJobOrders(jobId, { state: 'revision' }, version);
  return (
    <Section title="Manual revision">
      {!manualRevision ? <p className="hint">Manual revision is off for this job: placed orders go straight to the open batch.</p> : null}
      <Loaded resource={orders}>
        {(list) =>
          list.length ? (
            <ul className="revision-list">
              {list.map((jo) => (
                <RevisionOrder key={jo.orderId} jobId={jobId} jobOrder={jo} photos={photos} onChange={onChange} />
              ))}
            </ul>
          ) : (
            <Empty>No orders in manual revision.</Empty>
          )
        }
      </Loaded>
    </Section>
  );
}

function RevisionOrder({ jobId, jobOrder, photos, onChange }: { jobId: string; jobOrder: JobOrder; photos: JobPhoto[]; onChange: () => void }) {
  const { subject } = jobOrder;
  const [showAll, setShowAll] = useState(false);
  const current = jobOrder.photos.map((p) => p.id);
  const [chosen, setChosen] = useState<string[]>(current);
  const act = useAction();
  const own = photos.filter((p) => p.accessCode === subject.accessCode || (subject.groupName !== null && p.groupName === subject.groupName) || current.includes(p.id));
  const choices = showAll ? photos : own;
  const changed = chosen.length !== current.length || chosen.some((id) => !current.includes(id));
  const who = subject.name ?? `blank card ${subject.accessCode}`;
  const toggle = (id: string, on: boolean) => setChosen((c) => (on ? [...c, id] : c.filter((x) => x !== id)));
  const replace = () =>
    void act.run(async () => {
      await api.post<JobOrder>(`/v1/jobs/${jobId}/orders/${jobOrder.orderId}/photos`, { photoIds: chosen });
      onChange();
    }, `Photos of ${jobOrder.order.number} replaced.`);
  const release = () =>
    void act.run(async () => {
      await api.post<JobOrder>(`/v1/jobs/${jobId}/orders/${jobOrder.orderId}/release`, {});
      onChange();
    }, `${jobOrder.order.number} released to the open batch.`);
  return (
    <li className="card" data-order={jobOrder.order.number}>
      <p>
        <Link to={`/admin/orders/${jobOrder.orderId}`}>{jobOrder.order.number}</Link> · {who} · <span className="code">{subject.accessCode}</span> ·{' '}
        {jobOrder.order.lines.map((l) => l.description).join(', ')}
      </p>
      <fieldset>
        <legend>Photos of {jobOrder.order.number}</legend>
        <div className="photo-choices">
          {choices.map((p) => (
            <label key={p.id} className="checkbox">
              <input type="checkbox" checked={chosen.includes(p.id)} onChange={(e) => toggle(p.id, e.target.checked)} />
              <span>
                {p.fileName} <span className="muted small">{p.accessCode ? `code ${p.accessCode}` : `group ${p.groupName}`}</span>
              </span>
            </label>
          ))}
          {choices.length ? null : <p className="muted">No photos recorded for this student yet.</p>}
        </div>
        <label className="checkbox">
          <input type="checkbox" checked={showAll} onChange={(e) => setShowAll(e.target.checked)} />
          <span>Show all photos of the job</span>
        </label>
      </fieldset>
      <div className="button-row">
        <button type="button" className="button-secondary" disabled={act.pending || !changed || chosen.length === 0} onClick={replace}>
          Replace photos
        </button>
        <button type="button" className="button-primary" disabled={act.pending || changed || current.length === 0} onClick={release}>
          Release to batch
        </button>
        {changed ? <span className="hint">Save the photo choice first.</span> : null}
      </div>
      <ErrorNote error={act.error} />
    </li>
  );
}
