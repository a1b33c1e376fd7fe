// Paying an order that awaits payment: account credit first if wanted, the rest by card.
import { useState, type FormEvent } from 'react';
import { api } from '../../lib/api';
import { money } from '../../lib/format';
import { useResource } from '../../lib/hooks';
import { useSession } from '../../lib/session';
import type { Customer, Order } from '../../lib/types';
import { ErrorNote, useAction } from '../../components/Feedback';
import { Checkbox, SelectField, Submit, TextField } from '../../components/forms';
import { Deadline } from '../../components/ui';

export const SANDBOX_CARDS = [
  { value: 'pm_card_visa', label: 'Visa ending 4242 (test card, succeeds)' },
  { value: 'pm_card_declined', label: 'Card ending 0002 (test card, declined)' },
  { value: 'pm_card_refund_fails', label: 'Card ending 5556 (test card, refunds fail)' },
];

export function PayPanel({ order, onChange }: { order: Order; onChange: (o: Order) => void }) {
  const { user, config } = useSession();
  const me = useResource(() => api.get<Customer>(`/v1/customers/${user?.customerId}`), [user?.customerId]);
  const [useCredit, setUseCredit] = useState(true);
  const [card, setCard] = useState(config.mode === 'sandbox' ? 'pm_card_visa' : '');
  const [cardError, setCardError] = useState<string | null>(null);
  const act = useAction();
  if (order.state !== 'payment') return null;
  const c = order.currency;
  const balance = me.data?.balances[c] ?? 0;
  const fromCredit = useCredit ? Math.min(balance, order.amounts.total) : 0;
  const byCard = order.amounts.total - fromCredit;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (byCard > 0 && !card.trim()) return setCardError('Choose a card for the rest.');
    setCardError(null);
    const done = await act.run(
      () => api.post<Order>(`/v1/orders/${order.id}/pay`, { useAccountCredit: useCredit, ...(byCard > 0 ? { paymentMethod: card.trim() } : {}) }),
      `Paid ${money(order.amounts.total, c)}. Thank you!`,
    );
    if (done) onChange(done);
  };
  return (
    <form onSubmit={submit} noValidate className="form callout" aria-label="Pay this order">
      <p>
        <strong>Please pay {money(order.amounts.total, c)}</strong>
        <br />
        <Deadline deadline={order.deadline} />
      </p>
      <Checkbox label={`Use my account credit (balance ${money(balance, c)})`} checked={useCredit} onChange={setUseCredit} />
      {byCard > 0 ? (
        config.mode === 'sandbox' ? (
          <SelectField label={`Card for ${money(byCard, c)}`} value={card} onChange={(v) => { setCard(v); setCardError(null); }} options={SANDBOX_CARDS} error={cardError} />
        ) : (
          <TextField label={`Card for ${money(byCard, c)} (payment method)`} value={card} onChange={(v) => { setCard(v); setCardError(null); }} error={cardError} />
        )
      ) : (
        <p className="hint">Your account credit covers all of it.</p>
      )}
      <ErrorNote error={act.error} />
      <Submit pending={act.pending}>Pay {money(order.amounts.total, c)}</Submit>
    </form>
  );
}
