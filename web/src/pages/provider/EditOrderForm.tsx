// Seed 004's "Edit order": date and time, price, an optional comment, then "Save changes".
// In confirmation the edit applies and the customer must confirm it; once paid it becomes a
// proposal the customer accepts or declines (a price may then only go down).
import { useState, type FormEvent } from 'react';
import { api } from '../../lib/api';
import { fromZonedInput, minorToDecimal, parseMoney, toZonedInput } from '../../lib/format';
import { useTimeZone } from '../../lib/session';
import type { Order } from '../../lib/types';
import { ErrorNote, useAction } from '../../components/Feedback';
import { MoneyField, Submit, TextArea, TextField } from '../../components/forms';

export function EditOrderForm({ order, mode, onDone, onCancel }: { order: Order; mode: 'edit' | 'proposal'; onDone: (o: Order) => void; onCancel: () => void }) {
  const zone = useTimeZone();
  const open = order.lines.filter((l) => l.status === 'open');
  const c = order.currency;
  const [startsAt, setStartsAt] = useState(toZonedInput(order.startsAt, zone));
  const [prices, setPrices] = useState<Record<string, string>>(() => Object.fromEntries(open.map((l) => [l.id, minorToDecimal(l.unitAmount, c)])));
  const [comment, setComment] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const act = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const found: Record<string, string> = {};
    const body: Record<string, unknown> = {};
    if (order.startsAt && startsAt !== toZonedInput(order.startsAt, zone)) {
      const iso = startsAt ? fromZonedInput(startsAt, zone) : null;
      if (!iso) found.startsAt = 'Enter a date and time.';
      else body.startsAt = iso;
    }
    const lines: { id: string; unitAmount: number }[] = [];
    for (const l of open) {
      const parsed = parseMoney(prices[l.id] ?? '', c, { allowZero: true });
      if (!parsed.ok) found[l.id] = parsed.error;
      else if (parsed.minor !== l.unitAmount) {
        if (mode === 'proposal' && parsed.minor > l.unitAmount) found[l.id] = 'Once paid, the price can only go down.';
        else lines.push({ id: l.id, unitAmount: parsed.minor });
      }
    }
    if (lines.length) body.lines = lines;
    if (comment.trim()) body.comment = comment.trim();
    setErrors(found);
    if (Object.keys(found).length) return;
    if (!body.startsAt && !body.lines && !body.comment) {
      act.setError(new Error('Change the date and time or the price, or add a comment.'));
      return;
    }
    const path = mode === 'edit' ? 'edit' : 'proposal';
    const done = await act.run(
      () => api.post<Order>(`/v1/orders/${order.id}/${path}`, body),
      mode === 'edit' ? 'Changes saved. The customer now has to confirm them.' : 'Change proposed. Nothing changes until the customer accepts.',
    );
    if (done) onDone(done);
  };
  return (
    <form onSubmit={submit} noValidate className="form" aria-label={mode === 'edit' ? 'Edit order' : 'Propose a change'}>
      {order.startsAt ? <TextField label={`Date and time (${zone})`} type="datetime-local" value={startsAt} onChange={(v) => { setStartsAt(v); setErrors(({ startsAt: _fixed, ...rest }) => rest); }} error={errors.startsAt ?? null} /> : null}
      {open.map((l) => (
        <MoneyField
          key={l.id}
          label={open.length > 1 ? `Price of “${l.description}”` : 'Price'}
          currency={c}
          value={prices[l.id] ?? ''}
          onChange={(v) => {
            setPrices((p) => ({ ...p, [l.id]: v }));
            setErrors(({ [l.id]: _fixed, ...rest }) => rest);
          }}
          error={errors[l.id] ?? null}
          hint={l.quantity > 1 ? `Per unit; quantity ${l.quantity}.` : undefined}
        />
      ))}
      <TextArea label="Comment (optional)" value={comment} onChange={setComment} maxLength={2000} />
      <ErrorNote error={act.error} />
      <div className="button-row">
        <Submit pending={act.pending}>{mode === 'edit' ? 'Save changes' : 'Propose change'}</Submit>
        <button type="button" className="button-secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
