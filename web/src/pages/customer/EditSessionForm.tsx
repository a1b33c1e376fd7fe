// One session: another slot of the same class with free seats (or another time), or
// another participant name. Only what changed is sent.
import { useState, type FormEvent } from 'react';
import { api } from '../../lib/api';
import { fromZonedInput, timeRange, toZonedInput } from '../../lib/format';
import { useResource } from '../../lib/hooks';
import { useTimeZone } from '../../lib/session';
import type { Line, Order, Service } from '../../lib/types';
import { ErrorNote, useAction } from '../../components/Feedback';
import { SelectField, Submit, TextField } from '../../components/forms';

export function EditSessionForm({ order, line, onCancel, onSaved }: { order: Order; line: Line; onCancel: () => void; onSaved: (o: Order) => void }) {
  const zone = useTimeZone();
  const service = useResource(async () => (line.serviceId ? api.get<Service>(`/v1/services/${line.serviceId}`) : null), [line.serviceId]);
  const [slotId, setSlotId] = useState(line.slotId ?? '');
  const [startsAt, setStartsAt] = useState(toZonedInput(line.startsAt, zone));
  const [participant, setParticipant] = useState(line.participantName ?? '');
  const [error, setError] = useState<string | null>(null);
  const act = useAction();
  const slots = (service.data?.slots ?? []).filter((s) => s.id === line.slotId || s.available > 0);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const body: Record<string, string> = {};
    if (line.slotId && slotId && slotId !== line.slotId) body.slotId = slotId;
    if (!line.slotId && startsAt && startsAt !== toZonedInput(line.startsAt, zone)) {
      const iso = fromZonedInput(startsAt, zone);
      if (!iso) return setError('Enter a date and time.');
      body.startsAt = iso;
      if (line.startsAt && line.endsAt) body.endsAt = new Date(Date.parse(iso) + Date.parse(line.endsAt) - Date.parse(line.startsAt)).toISOString();
    }
    if (participant.trim() !== (line.participantName ?? '')) {
      if (!participant.trim()) return setError('Enter the participant’s name.');
      body.participantName = participant.trim();
    }
    if (!Object.keys(body).length) return setError('Nothing changed: choose another time slot or change the participant.');
    setError(null);
    const done = await act.run(() => api.patch<Order>(`/v1/orders/${order.id}/lines/${line.id}`, body), 'Session changed.');
    if (done) onSaved(done);
  };
  return (
    <form onSubmit={submit} noValidate className="form">
      <p>
        <strong>{line.description}</strong> · now {timeRange(line.startsAt, line.endsAt, zone)}
      </p>
      {line.slotId ? (
        <SelectField
          label="Date and time slot"
          value={slotId}
          onChange={(v) => {
            setSlotId(v);
            setError(null);
          }}
          disabled={service.loading && !service.data}
          hint="Only slots with free seats are listed."
          options={slots.map((s) => ({
            value: s.id,
            label: `${timeRange(s.startsAt, s.endsAt, zone)}${s.id === line.slotId ? ' (current)' : ` — ${s.available} seat${s.available === 1 ? '' : 's'} free`}`,
          }))}
        />
      ) : (
        <TextField label={`Date and time (${zone})`} type="datetime-local" value={startsAt} onChange={(v) => { setStartsAt(v); setError(null); }} />
      )}
      <TextField label="Participant name" value={participant} onChange={(v) => { setParticipant(v); setError(null); }} maxLength={200} autoComplete="name" />
      {error ? (
        <p className="field-error" role="alert">
          {error}
        </p>
      ) : null}
      <ErrorNote error={service.error ?? act.error} />
      <div className="button-row">
        <Submit pending={act.pending}>Save Changes</Submit>
        <button type="button" className="button-secondary" onClick={onCancel}>
          Back
        </button>
      </div>
    </form>
  );
}
