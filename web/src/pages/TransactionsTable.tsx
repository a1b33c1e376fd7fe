// The account-entry table that both the customer's portal and the admin's customer page show.
import type { ReactNode } from 'react';
import { words } from '../lib/format';
import { Link } from '../lib/router';
import type { Transaction } from '../lib/types';
import { Money, TableWrap, Time } from '../components/ui';

export interface TransactionsTableProps {
  rows: Transaction[];
  /** Where an entry's order link goes and what it says. */
  orderLink: (orderId: string) => { href: string; label: string };
  /** Extra data-* attributes on a row. */
  rowAttributes?: (t: Transaction) => Record<`data-${string}`, string>;
  /** Notes after the memo and order link in the Details cell. */
  notes?: (t: Transaction) => ReactNode;
  /** When given, an Actions column with this cell. */
  actions?: (t: Transaction) => ReactNode;
}

export function TransactionsTable({ rows, orderLink, rowAttributes, notes, actions }: TransactionsTableProps) {
  return (
    <TableWrap label="Transactions">
      <thead>
        <tr>
          <th scope="col">Date</th>
          <th scope="col">Type</th>
          <th scope="col" className="num">
            Amount
          </th>
          <th scope="col">Details</th>
          {actions ? <th scope="col">Actions</th> : null}
        </tr>
      </thead>
      <tbody>
        {rows.map((t) => {
          const link = t.orderId ? orderLink(t.orderId) : null;
          return (
            <tr key={t.id} {...rowAttributes?.(t)}>
              <td>
                <Time iso={t.createdAt} />
              </td>
              <td>{words(t.type)}</td>
              <td className="num">
                <Money minor={t.amount} currency={t.currency} signed />
              </td>
              <td>
                {t.memo ?? ''}
                {link ? (
                  <>
                    {' '}
                    <Link to={link.href}>{link.label}</Link>
                  </>
                ) : null}
                {notes?.(t)}
              </td>
              {actions ? <td>{actions(t)}</td> : null}
            </tr>
          );
        })}
      </tbody>
    </TableWrap>
  );
}
