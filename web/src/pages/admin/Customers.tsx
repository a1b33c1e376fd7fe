// Staff: customers with their balance per currency ("Manage Customers"), and a new one.
import { useState, type FormEvent } from 'react';
import { api } from '../../lib/api';
import { refreshDirectory, useDirectory } from '../../lib/directory';
import type { Customer } from '../../lib/types';
import { ErrorNote, useAction } from '../../components/Feedback';
import { Submit, TextField } from '../../components/forms';
import { Empty, Money, Page, Section, TableWrap } from '../../components/ui';
import { Link } from '../../lib/router';

export function Balances({ balances }: { balances: Record<string, number> }) {
  const entries = Object.entries(balances);
  if (!entries.length) return <span className="muted">—</span>;
  return (
    <span className="balances">
      {entries.map(([cur, minor], i) => (
        <span key={cur}>
          {i ? ', ' : ''}
          <Money minor={minor} currency={cur} />
        </span>
      ))}
    </span>
  );
}

export function AdminCustomers() {
  const dir = useDirectory();
  const [filter, setFilter] = useState('');
  const needle = filter.trim().toLowerCase();
  const rows = (dir?.customers ?? []).filter((c) => !needle || c.name.toLowerCase().includes(needle) || c.email.toLowerCase().includes(needle));
  return (
    <Page title="Customers">
      <div className="filters" role="search">
        <TextField label="Find a customer" type="search" value={filter} onChange={setFilter} placeholder="Name or e-mail" />
      </div>
      {!dir ? (
        <p aria-busy="true">Loading…</p>
      ) : rows.length ? (
        <TableWrap label="Customers">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">E-mail</th>
              <th scope="col">Balance</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((c) => (
              <tr key={c.id}>
                <td>
                  <Link to={`/admin/customers/${c.id}`}>{c.name}</Link>
                </td>
                <td>{c.email}</td>
                <td>
                  <Balances balances={c.balances} />
                </td>
              </tr>
            ))}
          </tbody>
        </TableWrap>
      ) : (
        <Empty>No customers match.</Empty>
      )}
      <NewParty kind="customer" />
    </Page>
  );
}

export function NewParty({ kind }: { kind: 'customer' | 'provider' }) {
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [errors, setErrors] = useState<{ name?: string; email?: string }>({});
  const act = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const next = {
      ...(name.trim() ? {} : { name: 'Enter a name.' }),
      ...(/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.trim()) ? {} : { email: 'Enter an e-mail address such as name@example.com.' }),
    };
    setErrors(next);
    if (next.name || next.email) return;
    const created = await act.run(() => api.post<Customer>(`/v1/${kind}s`, { name: name.trim(), email: email.trim() }), (c) => `${c.name} added.`);
    if (created) {
      setName('');
      setEmail('');
      void refreshDirectory();
    }
  };
  return (
    <Section title={kind === 'customer' ? 'New customer' : 'New provider'}>
      <form onSubmit={submit} noValidate className="form inline-form">
        <TextField label="Name" value={name} onChange={(v) => { setName(v); setErrors(({ name: _fixed, ...rest }) => rest); }} error={errors.name ?? null} maxLength={200} />
        <TextField label="E-mail" type="email" value={email} onChange={(v) => { setEmail(v); setErrors(({ email: _fixed, ...rest }) => rest); }} error={errors.email ?? null} maxLength={254} />
        <ErrorNote error={act.error} />
        <Submit pending={act.pending}>Add {kind}</Submit>
      </form>
    </Section>
  );
}
