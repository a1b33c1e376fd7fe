// Seed 000's Site Summary: the site, its orders newest first (each with its lines, the
// delete buttons and "Cancel All Undone Lines"), and Site Activation → archive/restore.
import { api } from '../../lib/api';
import { nameOf, refreshDirectory, useDirectory } from '../../lib/directory';
import { useResource } from '../../lib/hooks';
import { Link } from '../../lib/router';
import type { Order, Site } from '../../lib/types';
import { ErrorNote, useAction } from '../../components/Feedback';
import { DefinitionList, Empty, Loaded, Money, Page, Section, StateBadge, Time } from '../../components/ui';
import { OrderLines } from '../order/OrderLines';
import { Payments } from '../order/Payments';

type Summary = Site & { orders: Order[] };

export function AdminSite({ id }: { id: string }) {
  const dir = useDirectory();
  const site = useResource(() => api.get<Summary>(`/v1/sites/${id}`), [id]);
  const lifespan = useAction();
  return (
    <Loaded resource={site}>
      {(s) => {
        const replaceOrder = (o: Order) => site.setData({ ...s, orders: s.orders.map((x) => (x.id === o.id ? o : x)) });
        const toggle = (action: 'archive' | 'restore') =>
          void lifespan.run(async () => {
            const next = await api.post<Site>(`/v1/sites/${s.id}/${action}`, {});
            site.setData({ ...s, ...next });
            void refreshDirectory();
          }, action === 'archive' ? 'Site archived (deleted). It is still found when searching archived sites.' : 'Site restored.');
        return (
          <Page title={s.address} subtitle={s.archived ? <span className="badge badge-cancelled">Archived</span> : <span className="badge badge-closed">Active</span>}>
            <Section title="Site Summary">
              <DefinitionList
                items={[
                  ['Customer', <Link key="c" to={`/admin/customers/${s.customerId}`}>{nameOf(dir, s.customerId)}</Link>],
                  ['Created', <Time key="t" iso={s.createdAt} />],
                  ['Orders', String(s.orders.length)],
                ]}
              />
            </Section>
            {s.orders.length ? null : <Empty>No orders on this site yet.</Empty>}
            {s.orders.map((o) => (
              <Section key={o.id} id={`order-${o.id}`} title={`Order ${o.number}`} actions={<Link to={`/admin/orders/${o.id}`}>Open order page</Link>}>
                <p>
                  <StateBadge state={o.state} /> Total <Money minor={o.amounts.total} currency={o.currency} /> · created <Time iso={o.createdAt} />
                </p>
                <OrderLines order={o} onChange={replaceOrder} staff />
                <h3>Payments</h3>
                <Payments order={o} onChange={replaceOrder} staff />
              </Section>
            ))}
            <Section title="Site Activation">
              <h3>Site Lifespan</h3>
              {s.archived ? (
                <div className="lifespan">
                  <p>
                    Archived (Deleted) <Time iso={s.archivedAt} />. Restore it to list it with the active sites again.
                  </p>
                  <button type="button" className="button-primary" disabled={lifespan.pending} onClick={() => toggle('restore')}>
                    Restore
                  </button>
                </div>
              ) : (
                <div className="lifespan">
                  <p id="archive-help">Archived (Deleted): hides the site from the site list; its orders stay searchable.</p>
                  <button type="button" className="button-danger" disabled={lifespan.pending} onClick={() => toggle('archive')} aria-describedby="archive-help" aria-label="Go — archive this site">
                    Go
                  </button>
                </div>
              )}
              <ErrorNote error={lifespan.error} />
            </Section>
          </Page>
        );
      }}
    </Loaded>
  );
}
