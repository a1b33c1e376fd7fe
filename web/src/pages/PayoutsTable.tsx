// A provider's payouts: what each closed order earned, when it is due, and whether it is paid.
import { api } from '../lib/api';
import { Link } from '../lib/router';
import { useResource } from '../lib/hooks';
import { words } from '../lib/format';
import type { Page as ListPage, Payout } from '../lib/types';
import { Empty, Loaded, Money, TableWrap, Time } from '../components/ui';

export function PayoutsTable({ providerId, orderLink }: { providerId?: string; orderLink: (orderId: string) => string }) {
  const payouts = useResource(() => api.get<ListPage<Payout>>('/v1/payouts', { providerId, limit: 100 }), [providerId]);
  return (
    <Loaded resource={payouts}>
      {(page) =>
        page.data.length ? (
          <TableWrap label="Payouts">
            <thead>
              <tr>
                <th scope="col">Order</th>
                <th scope="col" className="num">
                  Amount
                </th>
                <th scope="col">Status</th>
                <th scope="col">Due</th>
                <th scope="col">Paid</th>
              </tr>
            </thead>
            <tbody>
              {page.data.map((p) => (
                <tr key={p.id}>
                  <td>
                    <Link to={orderLink(p.orderId)}>{p.orderId}</Link>
                  </td>
                  <td className="num">
                    <Money minor={p.amount} currency={p.currency} />
                  </td>
                  <td>
                    <span className={`badge badge-payout-${p.status}`}>{words(p.status)}</span>
                  </td>
                  <td>
                    <Time iso={p.dueAt} />
                  </td>
                  <td>
                    <Time iso={p.paidAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </TableWrap>
        ) : (
          <Empty>No payouts yet. A payout is scheduled when an order closes.</Empty>
        )
      }
    </Loaded>
  );
}
