// Staff: every order, filtered by state, process, customer, provider or site, and searched
// by number, customer name or e-mail, or site address. Filters live in the URL.
import { useState, type FormEvent } from 'react';
import { api, withQuery } from '../../lib/api';
import { nameOf, useDirectory } from '../../lib/directory';
import { useResource } from '../../lib/hooks';
import { Link, navigate, useLocation } from '../../lib/router';
import type { Order, Page as ListPage } from '../../lib/types';
import { SelectField, TextField } from '../../components/forms';
import { Empty, Loaded, Money, Page, StateBadge, TableWrap, Time } from '../../components/ui';
import { ErrorNote, useAction } from '../../components/Feedback';
import { words } from '../../lib/format';

const STATES = ['confirmation', 'payment', 'execution', 'execution_confirmation', 'collection', 'revision', 'batch', 'production', 'claim', 'delivery', 'closed', 'cancelled'];
const FILTERS = ['state', 'process', 'customerId', 'providerId', 'siteId', 'q'] as const;
type Filters = Record<(typeof FILTERS)[number], string>;

export function AdminOrders() {
  const { query } = useLocation();
  const applied = Object.fromEntries(FILTERS.map((f) => [f, query.get(f) ?? ''])) as Filters;
  const [form, setForm] = useState<Filters>(applied);
  const dir = useDirectory();
  const key = FILTERS.map((f) => applied[f]).join('|');
  const [extra, setExtra] = useState<Order[]>([]);
  const [more, setMore] = useState<boolean | null>(null);
  const loadMore = useAction();
  const list = useResource(async () => {
    setExtra([]);
    setMore(null);
    return api.get<ListPage<Order>>('/v1/orders', { ...applied, limit: 25 });
  }, [key]);
  const set = (k: keyof Filters) => (v: string) => setForm((f) => ({ ...f, [k]: v }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    navigate(withQuery('/admin/orders', form), { replace: true });
  };
  const reset = () => {
    const empty = Object.fromEntries(FILTERS.map((f) => [f, ''])) as Filters;
    setForm(empty);
    navigate('/admin/orders', { replace: true });
  };
  const option = (items: { id: string; name?: string; address?: string }[] | undefined) => [
    { value: '', label: 'Any' },
    ...(items ?? []).map((i) => ({ value: i.id, label: i.name ?? i.address ?? i.id })),
  ];
  return (
    <Page title="Orders">
      <form className="filters" onSubmit={submit} role="search" aria-label="Filter orders">
        <TextField label="Search" type="search" value={form.q} onChange={set('q')} placeholder="Number, customer, e-mail or address" />
        <SelectField label="State" value={form.state} onChange={set('state')} options={[{ value: '', label: 'Any' }, ...STATES.map((s) => ({ value: s, label: words(s) }))]} />
        <SelectField label="Process" value={form.process} onChange={set('process')} options={[{ value: '', label: 'Any' }, { value: 'booking', label: 'Booking' }, { value: 'direct', label: 'Direct' }, { value: 'prepay', label: 'Prepay (picture day)' }]} />
        <SelectField label="Customer" value={form.customerId} onChange={set('customerId')} options={option(dir?.customers)} />
        <SelectField label="Provider" value={form.providerId} onChange={set('providerId')} options={option(dir?.providers)} />
        <SelectField label="Site" value={form.siteId} onChange={set('siteId')} options={option(dir?.sites)} />
        <div className="filter-buttons">
          <button type="submit" className="button-primary">
            Apply filters
          </button>
          <button type="button" className="button-secondary" onClick={reset}>
            Clear
          </button>
        </div>
      </form>
      <Loaded resource={list}>
        {(page) => {
          const rows = [...page.data, ...extra];
          const hasMore = more ?? page.has_more;
          if (!rows.length) return <Empty>No orders match these filters.</Empty>;
          return (
            <>
              <TableWrap label="Orders">
                <thead>
                  <tr>
                    <th scope="col">Order</th>
                    <th scope="col">State</th>
                    <th scope="col">Customer</th>
                    <th scope="col">Provider</th>
                    <th scope="col">Site</th>
                    <th scope="col" className="num">
                      Total
                    </th>
                    <th scope="col">Service time</th>
                    <th scope="col">Created</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((o) => (
                    <tr key={o.id}>
                      <td>
                        <Link to={`/admin/orders/${o.id}`}>{o.number}</Link>
                        <span className="muted small"> {o.process}</span>
                      </td>
                      <td>
                        <StateBadge state={o.state} />
                      </td>
                      <td>{nameOf(dir, o.customerId)}</td>
                      <td>{nameOf(dir, o.providerId)}</td>
                      <td>{o.siteId ? nameOf(dir, o.siteId) : '—'}</td>
                      <td className="num">
                        <Money minor={o.amounts.total} currency={o.currency} />
                      </td>
                      <td>
                        <Time iso={o.startsAt} />
                      </td>
                      <td>
                        <Time iso={o.createdAt} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </TableWrap>
              {hasMore ? (
                <button
                  type="button"
                  className="button-secondary"
                  disabled={loadMore.pending}
                  onClick={() =>
                    void loadMore.run(async () => {
                      const next = await api.get<ListPage<Order>>('/v1/orders', { ...applied, limit: 25, starting_after: rows[rows.length - 1]?.id });
                      setExtra((x) => [...x, ...next.data]);
                      setMore(next.has_more);
                    })
                  }
                >
                  Load more orders
                </button>
              ) : null}
              <ErrorNote error={loadMore.error} />
            </>
          );
        }}
      </Loaded>
    </Page>
  );
}
