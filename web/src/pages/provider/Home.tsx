// The provider's orders: what awaits their confirmation (with the deadline), what waits
// for the customer, what is to be done, and the rest.
import { api } from '../../lib/api';
import { useServerClock } from '../../lib/clock';
import { useResource } from '../../lib/hooks';
import { Link } from '../../lib/router';
import type { Order, Page as ListPage } from '../../lib/types';
import { Deadline, Empty, Loaded, Money, Page, Section, StateBadge, TableWrap, Time } from '../../components/ui';

function OrderTable({ orders, label }: { orders: Order[]; label: string }) {
  if (!orders.length) return <Empty>None.</Empty>;
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
          <th scope="col">State</th>
          <th scope="col">Deadline</th>
        </tr>
      </thead>
      <tbody>
        {orders.map((o) => (
          <tr key={o.id}>
            <td>
              <Link to={`/provider/orders/${o.id}`}>{o.number}</Link>
            </td>
            <td>{o.lines.map((l) => l.description).join(', ')}</td>
            <td>
              <Time iso={o.startsAt} />
            </td>
            <td className="num">
              <Money minor={o.amounts.total} currency={o.currency} />
            </td>
            <td>
              <StateBadge state={o.state} />
            </td>
            <td>
              <Deadline deadline={o.deadline} />
            </td>
          </tr>
        ))}
      </tbody>
    </TableWrap>
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
