// The provider's orders: what awaits their confirmation (with the deadline), what waits
// for the customer, what is to be done, and the rest.
import { api } from '../../lib/api';
import { useServerClock } from '../../lib/clock';
import { useResource } from '../../lib/hooks';
import { Link } from '../../lib/router';
import type { Order, Page as ListPage } from '../../lib/types';
import { Deadline, Empty, Loaded, Page, Section, StateBadge } from '../../components/ui';
import { OrdersTable } from '../OrdersTable';

function OrderTable({ orders, label }: { orders: Order[]; label: string }) {
  if (!orders.length) return <Empty>None.</Empty>;
  return (
    <OrdersTable
      orders={orders}
      label={label}
      number={(o) => <Link to={`/provider/orders/${o.id}`}>{o.number}</Link>}
      columns={[
        { key: 'state', heading: 'State', cell: (o) => <StateBadge state={o.state} /> },
        { key: 'deadline', heading: 'Deadline', cell: (o) => <Deadline deadline={o.deadline} /> },
      ]}
    />
  );
}

export function ProviderHome() {
  useServerClock();
  const orders = useResource(() => api.get<ListPage<Order>>('/v1/orders', { limit: 100 }), []);
  return (
    <Page title="Your orders" actions={<button type="button" className="button-secondary" onClick={() => void orders.reload()}>Refresh</button>}>
      <Loaded resource={orders}>
        {(page) => {
          const all = page.data;
          const awaitingMe = all.filter((o) => o.state === 'confirmation' && o.awaiting === 'provider');
          const waitingCustomer = all.filter((o) => (o.state === 'confirmation' && o.awaiting === 'customer') || (o.state === 'execution' && o.proposal) || o.state === 'payment');
          const toDo = all.filter((o) => (o.state === 'execution' && !o.proposal) || o.state === 'delivery');
          const rest = all.filter((o) => !awaitingMe.includes(o) && !waitingCustomer.includes(o) && !toDo.includes(o));
          return (
            <>
              <Section title="Awaiting your confirmation">
                <OrderTable orders={awaitingMe} label="Awaiting your confirmation" />
              </Section>
              <Section title="Waiting for the customer">
                <p className="hint">Payment, your changes to confirm, and proposals the customer has not answered yet.</p>
                <OrderTable orders={waitingCustomer} label="Waiting for the customer" />
              </Section>
              <Section title="To do">
                <OrderTable orders={toDo} label="To do" />
              </Section>
              <Section title="Other orders">
                <OrderTable orders={rest} label="Other orders" />
              </Section>
            </>
          );
        }}
      </Loaded>
    </Page>
  );
}
