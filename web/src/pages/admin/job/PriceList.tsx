// A job's price list (seed 002): the products parents pre-order, at their prices, in the
// order offered. They are the provider's services without slots (sessions with slots are
// not products) in the job's currency; staff pick them, reorder and remove them, or create
// a new one here, then save the whole list (PATCH /v1/jobs/{id} productIds).
import { useState, type FormEvent } from 'react';
import { api } from '../../../lib/api';
import { nameOf, useDirectory } from '../../../lib/directory';
import { money, parseMoney } from '../../../lib/format';
import { useResource } from '../../../lib/hooks';
import { allPages } from '../../../lib/pages';
import type { Job, JobProduct, Service } from '../../../lib/types';
import { ErrorNote, useAction } from '../../../components/Feedback';
import { MoneyField, SelectField, Submit, TextField } from '../../../components/forms';
import { Empty, Loaded, Money, Section, TableWrap } from '../../../components/ui';

/** The provider's products a job in `currency` may offer: services without slots, by name. */
export function useProductsOf(providerId: string, currency: string, version = 0) {
  return useResource(async () => {
    if (!providerId) return [];
    const all = await allPages<Service>('/v1/services', { providerId }, (s) => s.id);
    return all.items.filter((s) => s.slots.length === 0 && s.currency === currency).sort((a, b) => a.name.localeCompare(b.name));
  }, [providerId, currency, version]);
}

export const asProduct = (s: Service): JobProduct => ({ serviceId: s.id, name: s.name, unitAmount: s.unitAmount });

export function PriceList({ job, onChange }: { job: Job; onChange: () => void }) {
  const [editing, setEditing] = useState(false);
  const empty = job.products.length === 0;
  return (
    <Section
      title="Price list"
      actions={
        editing || empty ? null : (
          <button type="button" className="button-secondary" onClick={() => setEditing(true)}>
            Edit price list
          </button>
        )
      }
    >
      {editing ? (
        <PriceListEditor
          job={job}
          onDone={() => {
            setEditing(false);
            onChange();
          }}
          onCancel={() => setEditing(false)}
        />
      ) : empty ? (
        <div className="callout" data-testid="price-list-missing">
          <p>
            <strong>No price list yet.</strong> Parents cannot pre-order with this job's access codes until it offers products.
          </p>
          <button type="button" className="button-primary" onClick={() => setEditing(true)}>
            Set up the price list
          </button>
        </div>
      ) : (
        <>
          <p className="hint">What parents pre-order with this job's access codes, in this order and at these prices.</p>
          <TableWrap label="Products offered">
            <thead>
              <tr>
                <th scope="col">Product</th>
                <th scope="col" className="num">
                  Price each
                </th>
              </tr>
            </thead>
            <tbody>
              {job.products.map((p) => (
                <tr key={p.serviceId} data-product={p.name}>
                  <td>{p.name}</td>
                  <td className="num">
                    <Money minor={p.unitAmount} currency={job.currency} />
                  </td>
                </tr>
              ))}
            </tbody>
          </TableWrap>
        </>
      )}
    </Section>
  );
}

function PriceListEditor({ job, onDone, onCancel }: { job: Job; onDone: () => void; onCancel: () => void }) {
  const dir = useDirectory();
  const [version, setVersion] = useState(0);
  const services = useProductsOf(job.providerId, job.currency, version);
  const [list, setList] = useState<JobProduct[]>(job.products);
  const [pick, setPick] = useState('');
  const [pickError, setPickError] = useState<string | null>(null);
  const save = useAction();
  const move = (i: number, by: number) =>
    setList((l) => {
      const next = [...l];
      const [item] = next.splice(i, 1);
      next.splice(i + by, 0, item!);
      return next;
    });
  const add = (e: FormEvent, available: Service[]) => {
    e.preventDefault();
    const s = available.find((x) => x.id === pick);
    if (!s) return setPickError('Choose a product to add.');
    setList((l) => [...l, asProduct(s)]);
    setPick('');
    setPickError(null);
  };
  const submit = async () => {
    const done = await save.run(
      () => api.patch<Job>(`/v1/jobs/${job.id}`, { productIds: list.map((p) => p.serviceId) }),
      (j) => (j.products.length ? `Price list saved: ${j.products.length} ${j.products.length === 1 ? 'product' : 'products'}.` : 'Price list emptied: parents cannot pre-order.'),
    );
    if (done) onDone();
  };
  return (
    <div className="price-list-editor">
      <h3>Products offered, in order</h3>
      {list.length ? (
        <ol className="price-list-rows" aria-label="Products offered">
          {list.map((p, i) => (
            <li key={p.serviceId} data-product={p.name}>
              <span className="product-name">{p.name}</span>
              <Money minor={p.unitAmount} currency={job.currency} />
              <span className="row-actions">
                <button type="button" className="button-secondary" disabled={i === 0} onClick={() => move(i, -1)} aria-label={`Move ${p.name} up`}>
                  ↑
                </button>
                <button type="button" className="button-secondary" disabled={i === list.length - 1} onClick={() => move(i, 1)} aria-label={`Move ${p.name} down`}>
                  ↓
                </button>
                <button type="button" className="button-secondary" onClick={() => setList((l) => l.filter((x) => x.serviceId !== p.serviceId))} aria-label={`Remove ${p.name}`}>
                  Remove
                </button>
              </span>
            </li>
          ))}
        </ol>
      ) : (
        <Empty>No products: parents cannot pre-order until there is at least one.</Empty>
      )}
      <Loaded resource={services}>
        {(all) => {
          const available = all.filter((s) => !list.some((p) => p.serviceId === s.id));
          return (
            <form onSubmit={(e) => add(e, available)} noValidate className="form inline-form" aria-label="Add a product">
              <SelectField
                label="Add a product"
                value={pick}
                onChange={(v) => {
                  setPick(v);
                  setPickError(null);
                }}
                error={pickError}
                hint={`${nameOf(dir, job.providerId)}'s products in ${job.currency} (services without slots).`}
                options={[
                  { value: '', label: available.length ? 'Choose…' : all.length ? 'All of them are on the list' : 'None yet: create one below' },
                  ...available.map((s) => ({ value: s.id, label: `${s.name} — ${money(s.unitAmount, job.currency)}` })),
                ]}
              />
              <Submit pending={false} variant="secondary">
                Add to the list
              </Submit>
            </form>
          );
        }}
      </Loaded>
      <NewProduct
        job={job}
        onCreated={(s) => {
          setList((l) => [...l, asProduct(s)]);
          setVersion((v) => v + 1);
        }}
      />
      <ErrorNote error={save.error} />
      <div className="button-row">
        <button type="button" className="button-primary" disabled={save.pending} aria-busy={save.pending || undefined} onClick={() => void submit()}>
          {save.pending ? 'Working…' : 'Save price list'}
        </button>
        <button type="button" className="button-secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}

/** A new product of the job's provider, in the job's currency, added to the list being edited. */
function NewProduct({ job, onCreated }: { job: Job; onCreated: (s: Service) => void }) {
  const [name, setName] = useState('');
  const [price, setPrice] = useState('');
  const [errors, setErrors] = useState<{ name?: string; price?: string }>({});
  const act = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const amount = parseMoney(price, job.currency);
    const next = { ...(name.trim() ? {} : { name: 'Name the product.' }), ...(amount.ok ? {} : { price: amount.error }) };
    setErrors(next);
    if (!amount.ok || Object.keys(next).length) return;
    const created = await act.run(
      () => api.post<Service>('/v1/services', { name: name.trim(), providerId: job.providerId, unitAmount: amount.minor, currency: job.currency }),
      (s) => `Product ${s.name} created and added to the list (save the list to offer it).`,
    );
    if (!created) return;
    onCreated(created);
    setName('');
    setPrice('');
  };
  return (
    <form onSubmit={submit} noValidate className="form inline-form" aria-label="New product">
      <TextField
        label="New product"
        value={name}
        onChange={(v) => {
          setName(v);
          setErrors(({ name: _fixed, ...rest }) => rest);
        }}
        error={errors.name ?? null}
        maxLength={200}
        placeholder="e.g. Package A: 2 prints 5x7, 8 wallets"
      />
      <MoneyField
        label="Price"
        currency={job.currency}
        value={price}
        onChange={(v) => {
          setPrice(v);
          setErrors(({ price: _fixed, ...rest }) => rest);
        }}
        error={errors.price ?? null}
      />
      <ErrorNote error={act.error} />
      <Submit pending={act.pending} variant="secondary">
        Create product
      </Submit>
    </form>
  );
}
