// Photo management: the uploaded photos' file names recorded under a student's access code
// or as a group picture, found by file, code or group, and re-tagged when a photo went
// under the wrong code (the seed's fix for "error populating photos").
import { useId, useState, type FormEvent } from 'react';
import { api } from '../../../lib/api';
import type { JobPhoto, JobSubject } from '../../../lib/types';
import { ErrorNote, useAction } from '../../../components/Feedback';
import { SelectField, Submit, TextArea, TextField } from '../../../components/forms';
import { Modal } from '../../../components/Modal';
import { Empty, Section, TableWrap, Time } from '../../../components/ui';
import { normalizeCode, subjectLabel } from './Names';

const SHOWN = 200;

type Tag = { kind: 'code'; value: string } | { kind: 'group'; value: string };

function TagFields({ tag, onChange, subjects, error }: { tag: Tag; onChange: (t: Tag) => void; subjects: JobSubject[]; error: string | null }) {
  const groups = [...new Set(subjects.map((s) => s.groupName).filter((g): g is string => g !== null))].sort();
  const listId = useId();
  return (
    <>
      <SelectField
        label="Tag with"
        value={tag.kind}
        onChange={(v) => onChange({ kind: v as Tag['kind'], value: '' })}
        options={[
          { value: 'code', label: "A student's access code" },
          { value: 'group', label: 'A group (group picture)' },
        ]}
      />
      {tag.kind === 'code' ? (
        <SelectField
          label="Access code"
          value={tag.value}
          onChange={(v) => onChange({ kind: 'code', value: v })}
          error={error}
          options={[{ value: '', label: 'Choose…' }, ...subjects.map((s) => ({ value: s.accessCode, label: subjectLabel(s) }))]}
        />
      ) : (
        <TextField label="Group name" value={tag.value} onChange={(v) => onChange({ kind: 'group', value: v })} error={error} maxLength={200} list={listId} hint={groups.length ? `Groups on the names list: ${groups.join(', ')}` : undefined} />
      )}
      <datalist id={listId}>
        {groups.map((g) => (
          <option key={g} value={g} />
        ))}
      </datalist>
    </>
  );
}

function tagBody(tag: Tag) {
  return tag.kind === 'code' ? { accessCode: tag.value } : { groupName: tag.value.trim() };
}

export function Photos({ jobId, photos, subjects, complete, onChange }: { jobId: string; photos: JobPhoto[]; subjects: JobSubject[]; complete: boolean; onChange: () => void }) {
  const [filter, setFilter] = useState('');
  const [retag, setRetag] = useState<JobPhoto | null>(null);
  const byCode = new Map(subjects.map((s) => [s.accessCode, s]));
  const needle = filter.trim().toLowerCase();
  const code = normalizeCode(filter);
  const rows = photos.filter(
    (p) => !needle || p.fileName.toLowerCase().includes(needle) || p.accessCode === code || (p.groupName ?? '').toLowerCase().includes(needle) || (byCode.get(p.accessCode ?? '')?.name ?? '').toLowerCase().includes(needle),
  );
  return (
    <Section title="Photos">
      <p className="hint">
        {photos.length} photo{photos.length === 1 ? '' : 's'} recorded{complete ? '' : ' (only the first part is loaded)'}. Each is tagged with a student's access code, or with a
        group for group pictures; "Populate photos" puts them into the orders.
      </p>
      <RecordPhotos jobId={jobId} subjects={subjects} onRecorded={onChange} />
      <div className="filters" role="search" aria-label="Find photos">
        <TextField label="Find a photo by file, access code, student or group" type="search" value={filter} onChange={setFilter} />
      </div>
      {rows.length ? (
        <TableWrap label="Recorded photos">
          <thead>
            <tr>
              <th scope="col">File</th>
              <th scope="col">Tagged with</th>
              <th scope="col">Recorded</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.slice(0, SHOWN).map((p) => (
              <tr key={p.id} data-photo={p.fileName}>
                <td>{p.fileName}</td>
                <td>
                  {p.accessCode ? (
                    <>
                      <span className="code">{p.accessCode}</span> {byCode.get(p.accessCode)?.name ?? <span className="muted">blank card</span>}
                    </>
                  ) : (
                    <>Group: {p.groupName}</>
                  )}
                </td>
                <td>
                  <Time iso={p.createdAt} />
                </td>
                <td>
                  <button type="button" className="button-secondary" onClick={() => setRetag(p)} aria-label={`Re-tag ${p.fileName}`}>
                    Re-tag
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </TableWrap>
      ) : (
        <Empty>{photos.length ? 'No photo matches.' : 'No photos recorded yet.'}</Empty>
      )}
      {rows.length > SHOWN ? <p className="hint">Showing {SHOWN} of {rows.length}; search to narrow the list.</p> : null}
      <Modal title={retag ? `Re-tag ${retag.fileName}` : 'Re-tag'} open={retag !== null} onClose={() => setRetag(null)}>
        {retag ? (
          <RetagForm
            jobId={jobId}
            photo={retag}
            subjects={subjects}
            onDone={() => {
              setRetag(null);
              onChange();
            }}
          />
        ) : null}
      </Modal>
    </Section>
  );
}

function RecordPhotos({ jobId, subjects, onRecorded }: { jobId: string; subjects: JobSubject[]; onRecorded: () => void }) {
  const [tag, setTag] = useState<Tag>({ kind: 'code', value: '' });
  const [files, setFiles] = useState('');
  const [errors, setErrors] = useState<{ tag?: string; files?: string }>({});
  const act = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const list = files
      .split('\n')
      .map((f) => f.trim())
      .filter(Boolean);
    const next = {
      ...(tag.value.trim() ? {} : { tag: tag.kind === 'code' ? 'Choose the access code.' : 'Enter the group name.' }),
      ...(list.length ? {} : { files: 'Enter the file names, one per line.' }),
      ...(list.length > 1000 ? { files: 'At most 1000 photos at a time.' } : {}),
    };
    setErrors(next);
    if (Object.keys(next).length) return;
    const done = await act.run(
      () => api.post<{ data: JobPhoto[] }>(`/v1/jobs/${jobId}/photos`, { photos: list.map((fileName) => ({ fileName, ...tagBody(tag) })) }),
      (r) => `Recorded ${r.data.length} photo${r.data.length === 1 ? '' : 's'}.`,
    );
    if (done) {
      setFiles('');
      onRecorded();
    }
  };
  return (
    <details className="disclosure" open>
      <summary>Record uploaded photos</summary>
      <form onSubmit={submit} noValidate className="form inline-form" aria-label="Record photos">
        <TagFields tag={tag} onChange={(t) => { setTag(t); setErrors(({ tag: _fixed, ...rest }) => rest); }} subjects={subjects} error={errors.tag ?? null} />
        <TextArea label="File names (one per line)" value={files} onChange={(v) => { setFiles(v); setErrors(({ files: _fixed, ...rest }) => rest); }} error={errors.files ?? null} rows={3} placeholder="IMG_0001.jpg" />
        <ErrorNote error={act.error} />
        <Submit pending={act.pending}>Record photos</Submit>
      </form>
    </details>
  );
}

function RetagForm({ jobId, photo, subjects, onDone }: { jobId: string; photo: JobPhoto; subjects: JobSubject[]; onDone: () => void }) {
  const [tag, setTag] = useState<Tag>(photo.accessCode ? { kind: 'code', value: photo.accessCode } : { kind: 'group', value: photo.groupName ?? '' });
  const [error, setError] = useState<string | null>(null);
  const act = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!tag.value.trim()) return setError(tag.kind === 'code' ? 'Choose the access code.' : 'Enter the group name.');
    setError(null);
    const done = await act.run(() => api.patch<JobPhoto>(`/v1/jobs/${jobId}/photos/${photo.id}`, tagBody(tag)), (p) => `${p.fileName} is now tagged with ${p.accessCode ?? `group ${p.groupName}`}.`);
    if (done) onDone();
  };
  return (
    <form onSubmit={submit} noValidate className="form" aria-label="Re-tag the photo">
      <p className="hint">Move the photo to the access code the customer ordered with (the order page shows it), then populate the photos again.</p>
      <TagFields tag={tag} onChange={(t) => { setTag(t); setError(null); }} subjects={subjects} error={error} />
      <ErrorNote error={act.error} />
      <Submit pending={act.pending}>Save tag</Submit>
    </form>
  );
}
