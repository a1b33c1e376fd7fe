// Seed 000's payment lines: "Paid (Card)" and "Paid (Account credit)", and for staff the
// pencil next to a card payment that opens Payment Details → Refund Money.
import { useState } from 'react';
import type { Order, Payment } from '../../lib/types';
import { Money, Time } from '../../components/ui';
import { PencilIcon } from '../../components/icons';
import { paymentLabel } from './model';
import { RefundMoneyDialog } from './RefundMoneyDialog';

export function Payments({ order, onChange, staff }: { order: Order; onChange: (o: Order) => void; staff: boolean }) {
  const [editing, setEditing] = useState<Payment | null>(null);
  if (!order.payments.length) return <p className="muted">Nothing paid yet.</p>;
  return (
    <>
      <ul className="payments">
        {order.payments.map((p) => (
          <li key={p.id} data-payment={p.method}>
            <span className="payment-label">{paymentLabel(p.method)}</span>
            <Money minor={p.amount} currency={order.currency} />
            {p.refunded > 0 ? (
              <span className="muted small">
                {' '}
                ({p.method === 'card' ? 'refunded to card' : 'returned to account'} <Money minor={p.refunded} currency={order.currency} />)
              </span>
            ) : null}
            <span className="muted small">
              {' '}
              · <Time iso={p.createdAt} />
            </span>
            {staff && p.method === 'card' ? (
              <button type="button" className="icon-button pencil" aria-label="Edit card payment (refund to card)" title="Payment details" onClick={() => setEditing(p)}>
                <PencilIcon />
              </button>
            ) : null}
          </li>
        ))}
      </ul>
      <RefundMoneyDialog
        order={order}
        payment={editing}
        onClose={() => setEditing(null)}
        onDone={(o) => {
          setEditing(null);
          onChange(o);
        }}
      />
    </>
  );
}
