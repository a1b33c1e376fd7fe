// The customer's "Transactions and Receipts": balance, orders with View Receipt, and every
// entry on their account.
import { api } from '../../lib/api';
import { useResource } from '../../lib/hooks';
import { useSession } from '../../lib/session';
import { words } from '../../lib/format';
import { Link } from '../../lib/router';
import type { Customer, Order, Page as ListPage, Transaction } from '../../lib/types';
import { DefinitionList, Empty, Loaded, Money, Page, Section, StateBadge, TableWrap, Time } from '../../components/ui';
import { Balances } from '../admin/Customers';

export function PortalHome() {
  const { user } = useSession();
  const id = user?.customerId as string;
  const me = useResource(() => api.get<Customer>(`/v1/customers/${id}`), [id]);
  const orders = useResource(() => api.get<ListPage<Order>>('/v1/orders', { limit: 50 }), []);
  const txns = useResource(() => api.get<ListPage<Transaction>>(`/v1/customers/${id}/transactions`, { limit: 50 }), [id]);
  return (
    <Page title="Transactions and receipts" subtitle={user ? `Signed in as ${user.name}` : undefined}>
      <Section title="Your balance">
        <Loaded resource={me}>{(c) => <DefinitionList items={[['Account credit', <Balances key="b" balances={c.balances} />]]} />}</Loaded>
      </Section>
      <Section title="Your orders">
        <Loaded resource={orders}>
          {(page) =>
            page.data.length ? (
              <TableWrap label="Your orders">
                <thead>
                  <tr>
                    <th scope="col">Order</th>
                    <th scope="col">What</th>
                    <th scope="col">When</th>
                    <th scope="col" className="num">
                      Total
                    </th>
                    <th scope="col">Status</th>
                    <th scope="col">
                      <span className="sr-only">Receipt</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {page.data.map((o) => (
                    <tr key={o.id}>
                      <td>{o.number}</td>
                      <td>{o.lines.map((l) => l.description).filter((d, i, all) => all.indexOf(d) === i).join(', ')}</td>
                      <td>
                        <Time iso={o.startsAt} />
                      </td>
                      <td className="num">
                        <Money minor={o.amounts.total} currency={o.currency} />
                      </td>
                      <td>
                        <StateBadge state={o.state} />
                        {o.awaiting === 'customer' && o.state !== 'closed' ? <span className="badge badge-action">Your turn</span> : null}
                      </td>
                      <td>
                        <Link to={`/portal/receipts/${o.id}`} aria-label={`View receipt ${o.number}`}>
                          View receipt
                        </Link>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </TableWrap>
            ) : (
              <Empty>No orders yet.</Empty>
            )
          }
        </Loaded>
      </Section>
      <Section title="Transactions">
        <Loaded resource={txns}>
          {(page) =>
            page.data.length ? (
              <TableWrap label="Transactions">
                <thead>
                  <tr>
                    <th scope="col">Date</th>
                    <th scope="col">Type</th>
                    <th scope="col" className="num">
                      Amount
                    </th>
                    <th scope="col">Details</th>
                  </tr>
                </thead>
                <tbody>
                  {page.data.map((t) => (
                    <tr key={t.id}>
                      <td>
                        <Time iso={t.createdAt} />
                      </td>
                      <td>{words(t.type)}</td>
                      <td className="num">
                        <Money minor={t.amount} currency={t.currency} signed />
                      </td>
                      <td>
                        {t.memo ?? ''}
                        {t.orderId ? (
                          <>
                            {' '}
                            <Link to={`/portal/receipts/${t.orderId}`}>receipt</Link>
                          </>
                        ) : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </TableWrap>
            ) : (
              <Empty>No transactions yet.</Empty>
            )
          }
        </Loaded>
      </Section>
    </Page>
  );
}
