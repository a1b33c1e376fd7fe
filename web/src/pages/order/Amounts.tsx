// Subtotal, fee, total, paid, refunded, still refundable; for staff and the provider, the
// provider's payout once the order has ended.
import type { ReactNode } from 'react';
import type { Order } from '../../lib/types';
import { DefinitionList, Money, Time } from '../../components/ui';

export function Amounts({ order, payout = false }: { order: Order; payout?: boolean }) {
  const c = order.currency;
  const a = order.amounts;
  const m = (minor: number, key: string) => <Money key={key} minor={minor} currency={c} />;
  const p = payout ? order.payout : null;
  const ended = order.closedAt !== null;
  return (
    <DefinitionList
      items={[
        ['Subtotal', m(a.subtotal, 's')],
        ...(a.serviceFee ? ([['Service fee', m(a.serviceFee, 'f')]] as [string, ReactNode][]) : []),
        ['Total', m(a.total, 't')],
        ['Paid', m(a.paid, 'p')],
        ['Refunded', m(a.refunded, 'r')],
        ended ? ['Refundable (from the provider payout)', m(a.refundable, 'h')] : ['Held (refundable)', m(a.refundable, 'h')],
        ...(p
          ? ([
              [
                'Provider payout',
                <span key="po" data-testid="payout">
                  <Money minor={p.amount} currency={c} />{' '}
                  {p.status === 'scheduled' ? <>due <Time iso={p.dueAt} /></> : p.status === 'paid' ? <>paid <Time iso={p.paidAt} /></> : 'cancelled (refunded in full)'}
                </span>,
              ],
            ] as [string, ReactNode][])
          : []),
      ]}
    />
  );
}
