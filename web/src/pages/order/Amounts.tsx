// Subtotal, fee, total, paid, refunded, still refundable.
import type { ReactNode } from 'react';
import type { Order } from '../../lib/types';
import { DefinitionList, Money } from '../../components/ui';

export function Amounts({ order }: { order: Order }) {
  const c = order.currency;
  const a = order.amounts;
  const m = (minor: number, key: string) => <Money key={key} minor={minor} currency={c} />;
  return (
    <DefinitionList
      items={[
        ['Subtotal', m(a.subtotal, 's')],
        ...(a.serviceFee ? ([['Service fee', m(a.serviceFee, 'f')]] as [string, ReactNode][]) : []),
        ['Total', m(a.total, 't')],
        ['Paid', m(a.paid, 'p')],
        ['Refunded', m(a.refunded, 'r')],
        ['Held (refundable)', m(a.refundable, 'h')],
      ]}
    />
  );
}
