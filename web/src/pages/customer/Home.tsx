// The customer's "Transactions and Receipts": balance, orders with View Receipt, and every
// entry on their account.
import { api } from '../../lib/api';
import { useResource } from '../../lib/hooks';
import { useSession } from '../../lib/session';
import { Link } from '../../lib/router';
import type { Customer, Order, Page as ListPage, Transaction } from '../../lib/types';
import { DefinitionList, Empty, Loaded, Page, Section, StateBadge } from '../../components/ui';
import { OrdersTable } from '../OrdersTable';
import { TransactionsTable } from '../TransactionsTable';
import { Balances } from '../admin/Customers';
import { customerStateLabel } from '../order/model';

export function PortalHome() {
  const { user } = useSession();
  const id = user?.customerId as string;
  const me = useResource(() => api.get<Customer>(`/v1/customers/${id}`), [id]);
  const orders = useResource(() => api.get<ListPage<Order>>('/v1/orders', { limit: 50 }), []);
  const txns = useResource(() => api.get<ListPage<Transaction>>(`/v1/customers/${id}/transactions`, { limit: 50 }), [id]);
  return (
    <Page
      title="Transactions and receipts"
      subtitle={user ? `Signed in as ${user.name}` : undefined}
      actions={
        <Link to="/portal/pre-order" className="button-link">
          Pre-order with an access code
        </Link>
      }
    >
      <Section title="Your balance">
        <Loaded resource={me}>{(c) => <DefinitionList items={[['Account credit', <Balances key="b" balances={c.balances} />]]} />}</Loaded>
      </Section>
      <Section title="Your orders">
        <Loaded resource={orders}>
          {(page) =>
            page.data.length ? (
              <OrdersTable
                orders={page.data}
                label="Your orders"
                number={(o) => o.number}
                distinctLines
                columns={[
                  {
                    key: 'status',
                    heading: 'Status',
                    cell: (o) => (
                      <>
                        <StateBadge state={o.state} label={customerStateLabel(o)} />
                        {o.awaiting === 'customer' && o.state !== 'closed' ? <span className="badge badge-action">Your turn</span> : null}
                      </>
                    ),
                  },
                  {
                    key: 'receipt',
                    heading: <span className="sr-only">Receipt</span>,
                    cell: (o) => (
                      <Link to={`/portal/receipts/${o.id}`} aria-label={`View receipt ${o.number}`}>
                        View receipt
                      </Link>
                    ),
                  },
                ]}
              />
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
              <TransactionsTable rows={page.data} orderLink={(orderId) => ({ href: `/portal/receipts/${orderId}`, label: 'receipt' })} />
            ) : (
              <Empty>No transactions yet.</Empty>
            )
          }
        </Loaded>
      </Section>
    </Page>
  );
}
