// The names list: a name (and its group) per student, each with the access code printed on
// their QR card, plus blank cards for paper orders of students not on the list. Found by
// name or code, sorted by name, group or code.
import { useState, type FormEvent } from 'react';
import { api } from '../../../lib/api';
import type { JobSubject } from '../../../lib/types';
import { ErrorNote, useAction } from '../../../components/Feedback';
import { SelectField, Submit, TextArea, TextField } from '../../../components/forms';
import { Empty, Section, TableWrap } from '../../../components/ui';

const SHOWN = 200;

/** How people type a code off a card: any case, spaces and dashes ignored (as the server reads it). */
export function normalizeCode(text: string): string {
  return text.replace(/[\s-]/g, '').toUpperCase();
}

export function subjectLabel(s: { name: string | null; accessCode: string }): string {
  return `${s.name ?? 'Blank card'} — ${s.accessCode}`;
}

type SortKey = 'name' | 'group' | 'code';

function compare(key: SortKey) {
  const text = (v: string | null) => v ?? '\uffff';
  return (a: JobSubject, b: JobSubject) => {
    if (key === 'code') return a.accessCode.localeCompare(b.accessCode);
    if (key === 'group') return text(a.groupName).localeCompare(text(b.groupName)) || text(a.name).localeCompare(text(b.name));
    return text(a.name).localeCompare(text(b.name)) || a.accessCode.localeCompare(b.accessCode);
  };
}

export function NamesList({ jobId, subjects, complete, onChange }: { jobId: string; subjects: JobSubject[]; complete: boolean; onChange: () => void }) {
  const [filter, setFilter] = useState('');
  const [sort, setSort] = useState<SortKey>('name');
  const needle = filter.trim().toLowerCase();
  const code = normalizeCode(filter);
  const rows = subjects
    .filter((s) => !needle || (s.name ?? '').toLowerCase().includes(needle) || (s.groupName ?? '').toLowerCase().includes(needle) || s.accessCode === code)
    .sort(compare(sort));
  const blanks = subjects.filter((s) => s.name === null).length;
  return (
    <Section title="Names list and access codes">
      <p className="hint">
        {subjects.length} code{subjects.length === 1 ? '' : 's'}
        {blanks ? `, ${blanks} of them ${blanks === 1 ? 'a blank card' : 'blank cards'}` : ''}. Each student's code is printed on their QR card; parents pre-order with it, and photos are recorded under it.
        {complete ? '' : ' (Only the first part of a very long list is loaded.)'}
      </p>
      <div className="filters" role="search" aria-label="Find in the names list">
        <TextField label="Find a name, group or access code" type="search" value={filter} onChange={setFilter} />
        <SelectField
          label="Sort by"
          value={sort}
          onChange={(v) => setSort(v as SortKey)}
          options={[
            { value: 'name', label: 'Name' },
            { value: 'group', label: 'Group' },
            { value: 'code', label: 'Access code' },
          ]}
        />
      </div>
      {rows.length ? (
        <TableWrap label="Names list">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Group</th>
              <th scope="col">Access code</th>
            </tr>
          </thead>
          <tbody>
            {rows.slice(0, SHOWN).map((s) => (
              <tr key={s.id} data-subject={s.accessCode}>
                <td>{s.name ?? <span className="muted">Blank card</span>}</td>
                <td>{s.groupName ?? '—'}</td>
                <td>
                  <span className="code">{s.accessCode}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </TableWrap>
      ) : (
        <Empty>{subjects.length ? 'No name or code matches.' : 'No names yet: add the students below.'}</Empty>
      )}
      {rows.length > SHOWN ? <p className="hint">Showing {SHOWN} of {rows.length}; search to narrow the list.</p> : null}
      <AddNames jobId={jobId} onAdded={onChange} />
    </Section>
  );
}

function AddNames({ jobId, onAdded }: { jobId: string; onAdded: () => void }) {
  const [names, setNames] = useState('');
  const [group, setGroup] = useState('');
  const [blank, setBlank] = useState('0');
  const [errors, setErrors] = useState<{ names?: string; blank?: string }>({});
  const act = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const list = names
      .split('\n')
      .map((n) => n.trim())
      .filter(Boolean);
    const blankCards = blank.trim() === '' ? 0 : Number(blank.trim());
    const next = {
      ...(!/^\d*$/.test(blank.trim()) || blankCards > 1000 ? { blank: 'A whole number from 0 to 1000.' } : {}),
      ...(list.length === 0 && blankCards === 0 ? { names: 'Enter at least one name, or a number of blank cards.' } : {}),
      ...(list.length > 1000 ? { names: 'At most 1000 names at a time.' } : {}),
      ...(list.some((n) => n.length > 200) ? { names: 'A name has at most 200 characters.' } : {}),
    };
    setErrors(next);
    if (Object.keys(next).length) return;
    const g = group.trim();
    const done = await act.run(
      () => api.post<{ data: JobSubject[] }>(`/v1/jobs/${jobId}/subjects`, { subjects: list.map((name) => ({ name, ...(g ? { groupName: g } : {}) })), blankCards }),
      (r) => {
        const added = r.data.filter((s) => s.name !== null).length;
        const blanks = r.data.length - added;
        return `Added ${[added ? `${added} name${added === 1 ? '' : 's'}` : '', blanks ? `${blanks} blank card${blanks === 1 ? '' : 's'}` : ''].filter(Boolean).join(' and ')} with new access codes.`;
      },
    );
    if (done) {
      setNames('');
      setBlank('0');
      onAdded();
    }
  };
  return (
    <details className="disclosure" open>
      <summary>Add names or blank cards</summary>
      <form onSubmit={submit} noValidate className="form inline-form" aria-label="Add names">
        <TextArea label="Names (one per line)" value={names} onChange={(v) => { setNames(v); setErrors(({ names: _fixed, ...rest }) => rest); }} error={errors.names ?? null} rows={4} />
        <TextField label="Group (optional)" value={group} onChange={setGroup} maxLength={200} hint="e.g. the class: its group pictures go to every student of it." />
        <TextField
          label="Blank cards"
          inputMode="numeric"
          value={blank}
          onChange={(v) => {
            setBlank(v);
            setErrors(({ blank: _fixed, ...rest }) => rest);
          }}
          error={errors.blank ?? null}
          hint="Codes without a name, for paper orders of students not on the list."
        />
        <ErrorNote error={act.error} />
        <Submit pending={act.pending}>Add to names list</Submit>
      </form>
    </details>
  );
}
