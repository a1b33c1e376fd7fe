// Staff: sites (properties orders are for) — search by address or customer, archived ones
// on request, and a new site for a customer.
import { useState, type FormEvent } from 'react';
import { api, withQuery } from '../../lib/api';
import { customerOptions, nameOf, refreshDirectory, useDirectory } from '../../lib/directory';
import { useResource } from '../../lib/hooks';
import { Link, navigate, useLocation } from '../../lib/router';
import type { Page as ListPage, Site } from '../../lib/types';
import { ErrorNote, useAction } from '../../components/Feedback';
import { SelectField, Submit, TextField } from '../../components/forms';
import { Empty, Loaded, Page, Section, TableWrap, Time } from '../../components/ui';

export function AdminSites() {
  const { query } = useLocation();
  const q = query.get('q') ?? '';
  const archived = query.get('archived') ?? 'false';
  const [text, setText] = useState(q);
  const [which, setWhich] = useState(archived);
  const dir = useDirectory();
  const sites = useResource(() => api.get<ListPage<Site>>('/v1/sites', { q, archived, limit: 50 }), [q, archived]);
  const search = (e: FormEvent) => {
    e.preventDefault();
    navigate(withQuery('/admin/sites', { q: text.trim(), archived: which === 'false' ? '' : which }), { replace: true });
  };
  return (
    <Page title="Sites">
      <form className="filters" role="search" aria-label="Search sites" onSubmit={search}>
        <TextField label="Search by address or customer" type="search" value={text} onChange={setText} placeholder="e.g. 1428 Elm" />
        <SelectField
          label="Show"
          value={which}
          onChange={setWhich}
          options={[
            { value: 'false', label: 'Active sites' },
            { value: 'true', label: 'Archived (deleted) sites' },
            { value: 'all', label: 'All sites' },
          ]}
        />
        <div className="filter-buttons">
          <button type="submit" className="button-primary">
            Search
          </button>
        </div>
      </form>
      <Loaded resource={sites}>
        {(page) =>
          page.data.length ? (
            <TableWrap label="Sites">
              <thead>
                <tr>
                  <th scope="col">Address</th>
                  <th scope="col">Customer</th>
                  <th scope="col">Status</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {page.data.map((s) => (
                  <tr key={s.id}>
                    <td>
                      <Link to={`/admin/sites/${s.id}`}>{s.address}</Link>
                    </td>
                    <td>{nameOf(dir, s.customerId)}</td>
                    <td>{s.archived ? <span className="badge badge-cancelled">Archived</span> : <span className="badge badge-closed">Active</span>}</td>
                    <td>
                      <Time iso={s.createdAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </TableWrap>
          ) : (
            <Empty>No sites found{q ? ` for “${q}”` : ''}.</Empty>
          )
        }
      </Loaded>
      <NewSite onCreated={() => void sites.reload()} />
    </Page>
  );
}

function NewSite({ onCreated }: { onCreated: () => void }) {
  const dir = useDirectory();
  const [address, setAddress] = useState('');
  const [customerId, setCustomerId] = useState('');
  const [errors, setErrors] = useState<{ address?: string; customer?: string }>({});
  const act = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const next = { ...(address.trim() ? {} : { address: 'Enter the address.' }), ...(customerId ? {} : { customer: 'Choose the customer.' }) };
    setErrors(next);
    if (next.address || next.customer) return;
    const site = await act.run(() => api.post<Site>('/v1/sites', { address: address.trim(), customerId }), (s) => `Site ${s.address} created.`);
    if (site) {
      setAddress('');
      void refreshDirectory();
      onCreated();
    }
  };
  return (
    <Section title="New site">
      <form onSubmit={submit} noValidate className="form inline-form">
        <TextField label="Address" value={address} onChange={(v) => { setAddress(v); setErrors(({ address: _fixed, ...rest }) => rest); }} error={errors.address ?? null} maxLength={500} />
        <SelectField
          label="Customer"
          value={customerId}
          onChange={(v) => {
            setCustomerId(v);
            setErrors(({ customer: _fixed, ...rest }) => rest);
          }}
          error={errors.customer ?? null}
          options={customerOptions(dir)}
        />
        <ErrorNote error={act.error} />
        <Submit pending={act.pending}>Create site</Submit>
      </form>
    </Section>
  );
}
