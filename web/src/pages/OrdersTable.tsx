// The order-list table (Order / What / When / Total, then page-specific columns) the customer and provider homes share.
import type { ReactNode } from 'react';
import type { Order } from '../lib/types';
import { Money, TableWrap, Time } from '../components/ui';

export interface OrderColumn {
  key: string;
  heading: ReactNode;
  cell: (o: Order) => ReactNode;
}

/** The line descriptions of an order, optionally without repeats. */
function what(o: Order, distinct: boolean): string {
  const all = o.lines.map((l) => l.description);
  return (distinct ? all.filter((d, i) => all.indexOf(d) === i) : all).join(', ');
}

export function OrdersTable({ orders, label, number, distinctLines = false, columns }: {
  orders: Order[];
  label: string;
  /** The Order cell: the number, or a link to the order. */
  number: (o: Order) => ReactNode;
  distinctLines?: boolean;
  /** Columns after Total. */
  columns: OrderColumn[];
}) {
  return (
    <TableWrap label={label}>
      <thead>
        <tr>
          <th scope="col">Order</th>
          <th scope="col">What</th>
          <th scope="col">When</th>
          <th scope="col" className="num">
            Total
          </th>
          {columns.map((c) => (
            <th key={c.key} scope="col">
              {c.heading}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {orders.map((o) => (
          <tr key={o.id}>
            <td>{number(o)}</td>
            <td>{what(o, distinctLines)}</td>
            <td>
              <Time iso={o.startsAt} />
            </td>
            <td className="num">
              <Money minor={o.amounts.total} currency={o.currency} />
            </td>
            {columns.map((c) => (
              <td key={c.key}>{c.cell(o)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </TableWrap>
  );
}
