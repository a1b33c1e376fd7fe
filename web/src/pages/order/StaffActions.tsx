// What staff may do to an order as the operator: confirm for the awaited party, mark it
// done, confirm the execution, refund part of the money, resolve a claim.
import { useState, type FormEvent } from 'react';
import { api } from '../../lib/api';
import { minorToDecimal, money, parseMoney, words } from '../../lib/format';
import type { Order } from '../../lib/types';
import { serverNow } from '../../lib/clock';
import { Time } from '../../components/ui';
import { markDoneFrom } from './model';
import { ErrorNote, useAction } from '../../components/Feedback';
import { MoneyField, SelectField, Submit, TextArea } from '../../components/forms';

export function StaffTransitions({ order, onChange }: { order: Order; onChange: (o: Order) => void }) {
  const act = useAction();
  const post = (path: string, label: string): (() => void) => () => {
    void act.run(async () => onChange(await api.post<Order>(`/v1/orders/${order.id}/${path}`, {})), label);
  };
  const b = order.process === 'booking';
  // The server refuses "mark done" while open lines are still ahead; say when instead.
  const doneLater = b && order.state === 'execution' ? markDoneFrom(order, serverNow()) : null;
  const buttons = [
    b && order.state === 'confirmation' ? { label: `Confirm for the ${order.awaiting ?? 'awaited party'}`, run: post('confirm', 'Confirmed.') } : null,
    b && order.state === 'execution' && doneLater === null ? { label: 'Mark done', run: post('mark-done', 'Marked done.') } : null,
    b && order.state === 'execution_confirmation' ? { label: 'Confirm execution', run: post('confirm-execution', 'Execution confirmed; the order is closed.') } : null,
    order.process === 'prepay' && order.state === 'production' ? { label: 'Confirm receipt for the customer', run: post('confirm-execution', 'Receipt confirmed; the order is closed.') } : null,
  ].filter((x): x is { label: string; run: () => void } => x !== null);
  if (!buttons.length && doneLater === null) return null;
  return (
    <div className="button-row">
      {buttons.map((x) => (
        <button key={x.label} type="button" className="button-secondary" disabled={act.pending} onClick={x.run}>
          {x.label}
        </button>
      ))}
      {doneLater !== null ? (
        <p className="hint" data-testid="staff-done-later">
          Can be marked done from <Time iso={doneLater} />, once the open lines have started.
        </p>
      ) : null}
      <ErrorNote error={act.error} />
    </div>
  );
}

/** A refund of part of the money an order still holds (to account credit or the card). */
export function StaffRefund({ order, onChange }: { order: Order; onChange: (o: Order) => void }) {
  const c = order.currency;
  const [amount, setAmount] = useState('');
  const [destination, setDestination] = useState('account_credit');
  const [reason, setReason] = useState('');
  const [amountError, setAmountError] = useState<string | null>(null);
  const act = useAction();
  const max = order.amounts.refundable;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const parsed = parseMoney(amount, c);
    if (!parsed.ok) return setAmountError(parsed.error);
    if (parsed.minor > max) return setAmountError(`At most ${money(max, c)} can be refunded.`);
    setAmountError(null);
    const done = await act.run(
      () => api.post<Order>(`/v1/orders/${order.id}/refunds`, { amount: parsed.minor, destination, ...(reason.trim() ? { reason: reason.trim() } : {}) }),
      `Refunded ${money(parsed.minor, c)} to ${words(destination).toLowerCase()}.`,
    );
    if (done) {
      setAmount('');
      onChange(done);
    }
  };
  return (
    <form onSubmit={submit} noValidate className="form inline-form" aria-label="Refund part of the order">
      <MoneyField label="Refund amount" currency={c} value={amount} onChange={(v) => { setAmount(v); setAmountError(null); }} error={amountError} hint={`${order.closedAt ? 'Left in the provider payout' : 'Held'}: ${money(max, c)}`} placeholder={minorToDecimal(max, c)} />
      <SelectField label="Refund to" value={destination} onChange={setDestination} options={[{ value: 'account_credit', label: 'Account credit' }, { value: 'card', label: 'Card' }]} />
      <TextArea label="Reason (optional)" value={reason} onChange={setReason} maxLength={1000} />
      <ErrorNote error={act.error} />
      <Submit pending={act.pending}>Refund</Submit>
    </form>
  );
}

export function ClaimPanel({ order, onChange, staff }: { order: Order; onChange: (o: Order) => void; staff: boolean }) {
  const claim = order.claim;
  const c = order.currency;
  const [outcome, setOutcome] = useState('refund');
  const [amount, setAmount] = useState(minorToDecimal(order.amounts.refundable, c));
  const [destination, setDestination] = useState('account_credit');
  const [note, setNote] = useState('');
  const [amountError, setAmountError] = useState<string | null>(null);
  const act = useAction();
  if (!claim) return null;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    let body: Record<string, unknown> = { outcome, ...(note.trim() ? { reason: note.trim() } : {}) };
    if (outcome === 'refund') {
      const parsed = parseMoney(amount, c);
      if (!parsed.ok) return setAmountError(parsed.error);
      if (parsed.minor > order.amounts.refundable) return setAmountError(`At most ${money(order.amounts.refundable, c)} can be refunded.`);
      body = { ...body, amount: parsed.minor, destination };
    }
    setAmountError(null);
    const done = await act.run(() => api.post<Order>(`/v1/orders/${order.id}/claims/resolve`, body), outcome === 'refund' ? 'Claim resolved with a refund; the order is closed.' : 'Claim rejected; the order is closed.');
    if (done) onChange(done);
  };
  return (
    <div className="claim">
      <p>
        <strong>Claim:</strong> “{claim.reason}”
      </p>
      {claim.resolution ? (
        <p>
          Resolved: {claim.resolution.outcome === 'refund' ? `refund of ${money(claim.resolution.amount, c)}` : 'rejected'}
          {claim.resolution.reason ? ` — ${claim.resolution.reason}` : ''}
        </p>
      ) : staff && order.state === 'claim' ? (
        <form onSubmit={submit} noValidate className="form" aria-label="Resolve the claim">
          <SelectField label="Outcome" value={outcome} onChange={setOutcome} options={[{ value: 'refund', label: 'Refund' }, { value: 'reject', label: 'Reject' }]} />
          {outcome === 'refund' ? (
            <>
              <MoneyField label="Refund amount" currency={c} value={amount} onChange={(v) => { setAmount(v); setAmountError(null); }} error={amountError} hint="All that is held for a full refund, less for a partial one." />
              <SelectField label="Refund to" value={destination} onChange={setDestination} options={[{ value: 'account_credit', label: 'Account credit' }, { value: 'card', label: 'Card' }]} />
            </>
          ) : null}
          <TextArea label="Note to the customer (optional)" value={note} onChange={setNote} maxLength={1000} />
          <ErrorNote error={act.error} />
          <Submit pending={act.pending}>Resolve claim</Submit>
        </form>
      ) : (
        <p className="muted">Waiting for staff to resolve it.</p>
      )}
    </div>
  );
}
