// Staff: one customer — balance per currency, the balance correction form ("Add credits to
// customer's account": negative amounts remove credit; a memo is required), transactions.
import { useState, type FormEvent } from 'react';
import { api } from '../../lib/api';
import { useResource } from '../../lib/hooks';
import { Link } from '../../lib/router';
import { money, parseMoney } from '../../lib/format';
import { refreshDirectory } from '../../lib/directory';
import type { Customer } from '../../lib/types';
import { ErrorNote, useAction } from '../../components/Feedback';
import { MoneyField, SelectField, Submit, TextField } from '../../components/forms';
import { DefinitionList, Loaded, Page, Section } from '../../components/ui';
import { Balances } from './Customers';
import { CustomerTransactions } from './CustomerTransactions';

export function AdminCustomer({ id }: { id: string }) {
  const customer = useResource(() => api.get<Customer>(`/v1/customers/${id}`), [id]);
  const [version, setVersion] = useState(0);
  const changed = () => {
    void customer.reload();
    void refreshDirectory();
    setVersion((v) => v + 1);
  };
  return (
    <Loaded resource={customer}>
      {(c) => (
        <Page title={c.name} subtitle={c.email} actions={<Link to={`/admin/orders?customerId=${c.id}`}>Orders of {c.name}</Link>}>
          <Section title="Balance">
            <DefinitionList items={[['Account credit', <Balances key="b" balances={c.balances} />]]} />
          </Section>
          <Correction customer={c} onDone={changed} />
          <CustomerTransactions customerId={c.id} version={version} onChanged={changed} />
        </Page>
      )}
    </Loaded>
  );
}

function Correction({ customer, onDone }: { customer: Customer; onDone: () => void }) {
  const currencies = Object.keys(customer.balances);
  const [currency, setCurrency] = useState(currencies[0] ?? 'USD');
  const [amount, setAmount] = useState('');
  const [memo, setMemo] = useState('');
  const [errors, setErrors] = useState<{ amount?: string; memo?: string }>({});
  const act = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const parsed = parseMoney(amount, currency, { allowNegative: true });
    const next = { ...(parsed.ok ? {} : { amount: parsed.error }), ...(memo.trim() ? {} : { memo: 'A memo is required: say why the balance changes.' }) };
    setErrors(next);
    if (!parsed.ok || next.memo) return;
    const done = await act.run(
      () => api.post(`/v1/customers/${customer.id}/balance-corrections`, { amount: parsed.minor, currency, memo: memo.trim() }),
      `Correction of ${money(parsed.minor, currency)} entered.`,
    );
    if (done) {
      setAmount('');
      setMemo('');
      onDone();
    }
  };
  return (
    <Section title="Add credits to customer's account">
      <form onSubmit={submit} noValidate className="form inline-form" aria-label="Balance correction">
        <MoneyField
          label="Amount"
          currency={currency}
          value={amount}
          onChange={(v) => {
            setAmount(v);
            setErrors(({ amount: _fixed, ...rest }) => rest);
          }}
          error={errors.amount ?? null}
          hint="A negative amount (e.g. -25.00) removes credit. The balance can never go below zero."
        />
        <SelectField label="Currency" value={currency} onChange={setCurrency} options={[...new Set([...currencies, 'USD', 'EUR', 'GBP', 'JPY'])].map((c) => ({ value: c, label: c }))} />
        <TextField label="Memo (required)" value={memo} onChange={(v) => { setMemo(v); setErrors(({ memo: _fixed, ...rest }) => rest); }} error={errors.memo ?? null} maxLength={500} />
        <ErrorNote error={act.error} />
        <Submit pending={act.pending}>Add</Submit>
      </form>
    </Section>
  );
}
