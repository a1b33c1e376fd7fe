// A job's settings: what it is, its deadlines and manual revision, changed in place, and the
// one-way switch from Prepay to Selling (after a confirm step: it cannot be undone).
import { useState, type FormEvent, type ReactNode } from 'react';
import { api } from '../../../lib/api';
import { nameOf, useDirectory } from '../../../lib/directory';
import { useTimeZone } from '../../../lib/session';
import { Link } from '../../../lib/router';
import { fromZonedInput, toZonedInput } from '../../../lib/format';
import type { Job, JobSummary } from '../../../lib/types';
import { ErrorNote, useAction } from '../../../components/Feedback';
import { Checkbox, Submit, TextField } from '../../../components/forms';
import { Modal } from '../../../components/Modal';
import { Countdown, DefinitionList, Section, StateBadge, Time } from '../../../components/ui';
import { PictureDay } from '../Jobs';

export function JobSettings({ job, onChange }: { job: JobSummary; onChange: () => void }) {
  const dir = useDirectory();
  const [editing, setEditing] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const selling = useAction();
  const switchToSelling = async () => {
    const done = await selling.run(() => api.patch<Job>(`/v1/jobs/${job.id}`, { status: 'selling' }), 'The job sells now; pre-orders with its access codes have ended.');
    if (done) {
      setConfirming(false);
      onChange();
    }
  };
  return (
    <Section
      title="Job settings"
      actions={
        editing ? null : (
          <button type="button" className="button-secondary" onClick={() => setEditing(true)}>
            Edit settings
          </button>
        )
      }
    >
      <DefinitionList
        items={[
          ['Provider', <Link key="p" to={`/admin/providers/${job.providerId}`}>{nameOf(dir, job.providerId)}</Link>],
          ['Status', <StateBadge key="s" state={job.status} label={job.status === 'prepay' ? 'Prepay' : 'Selling'} />],
          ['Currency', job.currency],
          ['Picture day', <PictureDay key="d" iso={job.pictureDay} />],
          [
            'Batch shipping deadline',
            job.batchReleaseAt ? (
              <span key="b">
                <Time iso={job.batchReleaseAt} /> <Countdown at={job.batchReleaseAt} />
              </span>
            ) : (
              <span key="b" className="muted">None: batches are released by hand</span>
            ),
          ],
          ['Manual revision', job.manualRevision ? 'On: placed orders wait for revision' : 'Off: placed orders go to the open batch'],
          ['Created', <Time key="c" iso={job.createdAt} />],
          ...(job.sellingAt ? ([['Selling since', <Time key="ss" iso={job.sellingAt} />]] as [string, ReactNode][]) : []),
        ]}
      />
      {editing ? <EditJob job={job} onDone={() => { setEditing(false); onChange(); }} onCancel={() => setEditing(false)} /> : null}
      {job.status === 'prepay' ? (
        <div className="button-row">
          <button type="button" className="button-secondary" onClick={() => setConfirming(true)}>
            Switch to Selling…
          </button>
          <span className="hint">Optional, once the orders are placed: ends pre-ordering with this job's codes.</span>
        </div>
      ) : null}
      <Modal title="Switch the job to Selling?" open={confirming} onClose={() => setConfirming(false)}>
        <p>
          <strong>{job.name}</strong> changes from Prepay to Selling. Parents can no longer pre-order with its access codes; orders already made go on as they are.
        </p>
        <p>Check the proofing settings first: this cannot be undone.</p>
        <ErrorNote error={selling.error} />
        <div className="button-row">
          <button type="button" className="button-primary" disabled={selling.pending} onClick={() => void switchToSelling()}>
            Switch to Selling
          </button>
          <button type="button" className="button-secondary" onClick={() => setConfirming(false)}>
            Keep Prepay
          </button>
        </div>
      </Modal>
    </Section>
  );
}

function EditJob({ job, onDone, onCancel }: { job: Job; onDone: () => void; onCancel: () => void }) {
  const zone = useTimeZone();
  const initial = {
    name: job.name,
    manualRevision: job.manualRevision,
    pictureDay: job.pictureDay ? toZonedInput(job.pictureDay, zone).slice(0, 10) : '',
    deadline: toZonedInput(job.batchReleaseAt, zone),
  };
  const [form, setForm] = useState(initial);
  const [errors, setErrors] = useState<{ name?: string; deadline?: string; pictureDay?: string }>({});
  const act = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const body: Record<string, unknown> = {};
    const next: typeof errors = {};
    if (form.name.trim() !== initial.name) {
      if (!form.name.trim()) next.name = 'Enter the job name.';
      body.name = form.name.trim();
    }
    if (form.manualRevision !== initial.manualRevision) body.manualRevision = form.manualRevision;
    if (form.pictureDay !== initial.pictureDay) {
      const day = form.pictureDay ? fromZonedInput(`${form.pictureDay}T00:00`, zone) : null;
      if (form.pictureDay && !day) next.pictureDay = 'Enter a date.';
      body.pictureDay = day;
    }
    if (form.deadline !== initial.deadline) {
      const at = form.deadline ? fromZonedInput(form.deadline, zone) : null;
      if (form.deadline && !at) next.deadline = 'Enter a date and time.';
      body.batchReleaseAt = at;
    }
    setErrors(next);
    if (Object.keys(next).length) return;
    if (!Object.keys(body).length) return onCancel();
    const done = await act.run(() => api.patch<Job>(`/v1/jobs/${job.id}`, body), 'Job settings saved.');
    if (done) onDone();
  };
  const set = <K extends keyof typeof form>(key: K) => (value: (typeof form)[K]) => setForm((f) => ({ ...f, [key]: value }));
  return (
    <form onSubmit={submit} noValidate className="form inline-form" aria-label="Edit job settings">
      <TextField label="Job name" value={form.name} onChange={set('name')} error={errors.name ?? null} maxLength={200} />
      <TextField label="Picture day" type="date" value={form.pictureDay} onChange={set('pictureDay')} error={errors.pictureDay ?? null} />
      <TextField
        label="Batch shipping deadline"
        type="datetime-local"
        value={form.deadline}
        onChange={set('deadline')}
        error={errors.deadline ?? null}
        hint={`In ${zone}. Moves the open batch's deadline too; empty: release by hand.`}
      />
      <Checkbox label="Manual revision" checked={form.manualRevision} onChange={set('manualRevision')} hint="Applies to orders placed from now on." />
      <ErrorNote error={act.error} />
      <div className="button-row">
        <Submit pending={act.pending}>Save settings</Submit>
        <button type="button" className="button-secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
