// Staff: prepay jobs (seed 002's picture days) — the list, filtered by status, and a new job
// for a provider with its currency, price list, manual revision, batch shipping deadline and
// picture day.
import { useState, type FormEvent } from 'react';
import { api, withQuery } from '../../lib/api';
import { nameOf, useDirectory } from '../../lib/directory';
import { useResource } from '../../lib/hooks';
import { Link, navigate, useLocation } from '../../lib/router';
import { useTimeZone } from '../../lib/session';
import { dateOnly, fromZonedInput, money } from '../../lib/format';
import type { Job, Page as ListPage } from '../../lib/types';
import { ErrorNote, useAction } from '../../components/Feedback';
import { Checkbox, SelectField, Submit, TextField } from '../../components/forms';
import { Empty, Loaded, Page, Section, StateBadge, TableWrap, Time } from '../../components/ui';
import { useProductsOf } from './job/PriceList';

export const CURRENCIES = ['USD', 'EUR', 'GBP', 'CAD', 'AUD', 'CHF', 'JPY'];

/** A picture day as a date in the business zone (it is stored as that day's midnight). */
export function PictureDay({ iso }: { iso: string | null }) {
  const zone = useTimeZone();
  return iso ? <time dateTime={iso}>{dateOnly(iso, zone)}</time> : <span className="muted">—</span>;
}

export function AdminJobs() {
  const { query } = useLocation();
  const status = query.get('status') ?? '';
  const dir = useDirectory();
  const jobs = useResource(() => api.get<ListPage<Job>>('/v1/jobs', { status, limit: 100 }), [status]);
  return (
    <Page title="Prepay jobs" subtitle="Picture days: names lists with access codes, pre-orders, photos, order collections and batches.">
      <form className="filters" role="search" aria-label="Filter jobs" onSubmit={(e) => e.preventDefault()}>
        <SelectField
          label="Status"
          value={status}
          onChange={(v) => navigate(withQuery('/admin/jobs', { status: v }), { replace: true })}
          options={[
            { value: '', label: 'All jobs' },
            { value: 'prepay', label: 'Prepay (taking pre-orders)' },
            { value: 'selling', label: 'Selling' },
          ]}
        />
      </form>
      <Loaded resource={jobs}>
        {(page) =>
          page.data.length ? (
            <TableWrap label="Jobs">
              <thead>
                <tr>
                  <th scope="col">Job</th>
                  <th scope="col">Provider</th>
                  <th scope="col">Status</th>
                  <th scope="col" className="num">
                    Products
                  </th>
                  <th scope="col">Picture day</th>
                  <th scope="col">Batch shipping deadline</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {page.data.map((j) => (
                  <tr key={j.id}>
                    <td>
                      <Link to={`/admin/jobs/${j.id}`}>{j.name}</Link>
                    </td>
                    <td>{nameOf(dir, j.providerId)}</td>
                    <td>
                      <StateBadge state={j.status} />
                    </td>
                    <td className="num">{j.products.length || <span className="muted">No price list</span>}</td>
                    <td>
                      <PictureDay iso={j.pictureDay} />
                    </td>
                    <td>{j.batchReleaseAt ? <Time iso={j.batchReleaseAt} /> : <span className="muted">Released by hand</span>}</td>
                    <td>
                      <Time iso={j.createdAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </TableWrap>
          ) : (
            <Empty>No jobs{status ? ` in ${status}` : ''} yet.</Empty>
          )
        }
      </Loaded>
      <NewJob />
    </Page>
  );
}

function NewJob() {
  const dir = useDirectory();
  const zone = useTimeZone();
  const [name, setName] = useState('');
  const [providerId, setProviderId] = useState('');
  const [currency, setCurrency] = useState('USD');
  const [manualRevision, setManualRevision] = useState(false);
  const [pictureDay, setPictureDay] = useState('');
  const [deadline, setDeadline] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const products = useProductsOf(providerId, currency);
  const [errors, setErrors] = useState<{ name?: string; provider?: string; deadline?: string; pictureDay?: string }>({});
  const act = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const releaseAt = deadline ? fromZonedInput(deadline, zone) : null;
    const day = pictureDay ? fromZonedInput(`${pictureDay}T00:00`, zone) : null;
    const next = {
      ...(name.trim() ? {} : { name: 'Enter the job name.' }),
      ...(providerId ? {} : { provider: 'Choose the provider (photographer).' }),
      ...(deadline && !releaseAt ? { deadline: 'Enter a date and time.' } : {}),
      ...(pictureDay && !day ? { pictureDay: 'Enter a date.' } : {}),
    };
    setErrors(next);
    if (Object.keys(next).length) return;
    // In the order listed (the job's page reorders them), of the products this provider and currency have.
    const productIds = (products.data ?? []).filter((s) => chosen.includes(s.id)).map((s) => s.id);
    const job = await act.run(
      () =>
        api.post<Job>('/v1/jobs', {
          name: name.trim(),
          providerId,
          currency,
          manualRevision,
          productIds,
          ...(releaseAt ? { batchReleaseAt: releaseAt } : {}),
          ...(day ? { pictureDay: day } : {}),
        }),
      (j) => `Job ${j.name} created.`,
    );
    if (job) navigate(`/admin/jobs/${job.id}`);
  };
  const clear = (key: keyof typeof errors) => setErrors(({ [key]: _fixed, ...rest }) => rest);
  return (
    <Section title="New job">
      <form onSubmit={submit} noValidate className="form inline-form" aria-label="New job">
        <TextField label="Job name" value={name} onChange={(v) => { setName(v); clear('name'); }} error={errors.name ?? null} maxLength={200} placeholder="e.g. Lincoln Elementary – Fall Picture Day" />
        <SelectField
          label="Provider"
          value={providerId}
          onChange={(v) => {
            setProviderId(v);
            clear('provider');
          }}
          error={errors.provider ?? null}
          options={[{ value: '', label: 'Choose…' }, ...(dir?.providers ?? []).map((p) => ({ value: p.id, label: `${p.name} (${p.email})` }))]}
        />
        <SelectField label="Currency" value={currency} onChange={setCurrency} options={CURRENCIES.map((c) => ({ value: c, label: c }))} />
        <TextField label="Picture day" type="date" value={pictureDay} onChange={(v) => { setPictureDay(v); clear('pictureDay'); }} error={errors.pictureDay ?? null} />
        <TextField
          label="Batch shipping deadline"
          type="datetime-local"
          value={deadline}
          onChange={(v) => {
            setDeadline(v);
            clear('deadline');
          }}
          error={errors.deadline ?? null}
          hint={`In ${zone}. The open batch goes to production by itself then; leave empty to release it by hand.`}
        />
        <Checkbox label="Manual revision" checked={manualRevision} onChange={setManualRevision} hint="Placed orders wait in manual revision (e.g. memory mates) until released one by one to the batch." />
        <fieldset className="full-row">
          <legend>Price list</legend>
          {!providerId ? (
            <p className="hint">Choose the provider to pick from their products.</p>
          ) : (
            <Loaded resource={products}>
              {(all) =>
                all.length ? (
                  <>
                    {all.map((s) => (
                      <Checkbox
                        key={s.id}
                        label={`${s.name} — ${money(s.unitAmount, currency)}`}
                        checked={chosen.includes(s.id)}
                        onChange={(on) => setChosen((c) => (on ? [...c, s.id] : c.filter((x) => x !== s.id)))}
                      />
                    ))}
                    <p className="hint">What parents may pre-order. Reorder them, or create new products, on the job's page.</p>
                  </>
                ) : (
                  <p className="hint">{nameOf(dir, providerId)} has no products in {currency} yet (services without slots): create them on the job's page, after creating the job.</p>
                )
              }
            </Loaded>
          )}
        </fieldset>
        <ErrorNote error={act.error} />
        <Submit pending={act.pending}>Create job</Submit>
      </form>
    </Section>
  );
}
