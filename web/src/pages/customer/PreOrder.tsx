// The parent's pre-order (seed 002): the access code from the student's QR card shows the
// job and the student; then the job's price list (quantities of its products, at its
// prices), and the order is created to be paid on its receipt page. A blank card takes the
// student's name. A link on the card may carry the code (/portal/pre-order?code=…).
import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError } from '../../lib/api';
import { navigate, useLocation } from '../../lib/router';
import { useSession, useTimeZone } from '../../lib/session';
import { dateOnly } from '../../lib/format';
import type { AccessCodeLookup, JobOrder } from '../../lib/types';
import { ErrorNote, useAction } from '../../components/Feedback';
import { Submit, TextField } from '../../components/forms';
import { DefinitionList, Page, Section } from '../../components/ui';
import { parseQuantities, ProductPicker, type Quantities } from '../order/ProductPicker';

export function PreOrderPage() {
  const { query } = useLocation();
  const [code, setCode] = useState(query.get('code') ?? '');
  const [codeError, setCodeError] = useState<string | null>(null);
  const [found, setFound] = useState<AccessCodeLookup | null>(null);
  const lookup = useAction();
  const { run } = lookup;
  const find = async (text: string) => {
    const c = text.trim();
    if (c.replace(/[\s-]/g, '').length < 4) return setCodeError('Enter the access code printed on the QR card.');
    setCodeError(null);
    setFound(null);
    const r = await run(() =>
      api.get<AccessCodeLookup>(`/v1/access-codes/${encodeURIComponent(c)}`).catch((err: unknown) => {
        // Said for a parent holding a card, not as the API's "No such access_code".
        if (err instanceof ApiError && err.status === 404) {
          throw new ApiError(404, { ...err.body, message: `There is no job with the access code ${c.toUpperCase()}. Check the code on the QR card and try again.` });
        }
        throw err;
      }),
    );
    if (r) setFound(r);
  };
  useEffect(() => {
    const initial = query.get('code');
    if (initial) void find(initial);
    // Only the code the page was opened with.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  return (
    <Page title="Pre-order photos" subtitle="With the access code on the student's QR card, before picture day.">
      <Section title="Your QR card">
        <form
          onSubmit={(e: FormEvent) => {
            e.preventDefault();
            void find(code);
          }}
          noValidate
          className="form inline-form"
          aria-label="Look up the access code"
        >
          <TextField
            label="Access code"
            value={code}
            onChange={(v) => {
              setCode(v);
              setCodeError(null);
              setFound(null);
            }}
            error={codeError}
            autoComplete="off"
            autoCapitalize="characters"
            spellCheck={false}
            maxLength={40}
            hint="Letters and digits; upper or lower case, spaces and dashes do not matter."
          />
          <ErrorNote error={lookup.error} />
          <Submit pending={lookup.pending}>Look up</Submit>
        </form>
      </Section>
      {found ? <PreOrderForm found={found} /> : null}
    </Page>
  );
}

function PreOrderForm({ found }: { found: AccessCodeLookup }) {
  const { user } = useSession();
  const zone = useTimeZone();
  const [student, setStudent] = useState('');
  const [quantities, setQuantities] = useState<Quantities>({});
  const [errors, setErrors] = useState<{ student?: string; products?: string; quantities?: Record<string, string> }>({});
  const act = useAction();
  const open = found.status === 'prepay';
  const blank = found.subjectName === null;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const parsed = parseQuantities(found.products, quantities);
    const next = {
      ...(blank && !student.trim() ? { student: "Enter the student's name: the card has none yet." } : {}),
      ...(parsed.ok ? (parsed.lines.length ? {} : { products: 'Choose at least one product (a quantity of 1 or more).' }) : { quantities: parsed.errors }),
    };
    setErrors(next);
    if (!parsed.ok || Object.keys(next).length) return;
    const created = await act.run(
      () =>
        api
          .post<JobOrder>('/v1/pre-orders', {
            accessCode: found.accessCode,
            customerId: user?.customerId,
            lines: parsed.lines,
            ...(blank ? { subjectName: student.trim() } : {}),
          })
          .catch((err: unknown) => {
            // The studio changed its prices since the code was looked up: said for a parent.
            if (err instanceof ApiError && err.code === 'not_on_price_list') {
              throw new ApiError(err.status, { ...err.body, message: "The studio's price list has changed since you looked up the code. Look it up again to see the current prices." });
            }
            throw err;
          }),
      (jo) => `Pre-order ${jo.order.number} created. ${jo.order.state === 'payment' ? 'Please pay to confirm it.' : ''}`,
    );
    if (created) navigate(`/portal/receipts/${created.orderId}`);
  };
  return (
    <Section title={found.jobName}>
      <DefinitionList
        items={[
          ['Student', found.subjectName ?? 'Blank card (no name on the list yet)'],
          ['Access code', <span key="c" className="code">{found.accessCode}</span>],
          ['Picture day', found.pictureDay ? dateOnly(found.pictureDay, zone) : '—'],
        ]}
      />
      {!open ? (
        <p className="error-note" role="alert">
          Pre-orders for this job have closed: its photos are on sale now.
        </p>
      ) : found.products.length === 0 ? (
        <p className="callout" role="status">
          The studio has not published prices for this job yet, so it cannot be pre-ordered today. Please try again later with the same code.
        </p>
      ) : (
        <form onSubmit={submit} noValidate className="form" aria-label="Pre-order">
          {blank ? (
            <TextField
              label="Student's name"
              value={student}
              onChange={(v) => {
                setStudent(v);
                setErrors(({ student: _fixed, ...rest }) => rest);
              }}
              error={errors.student ?? null}
              maxLength={200}
              autoComplete="off"
              hint="This card has no name yet: the photos and the card will carry the name you give."
            />
          ) : null}
          <ProductPicker
            products={found.products}
            currency={found.currency}
            quantities={quantities}
            onChange={(q) => {
              setQuantities(q);
              setErrors(({ products: _p, quantities: _q, ...rest }) => rest);
            }}
            errors={errors.quantities ?? {}}
            note="A service fee, if any, is added on the next page, before you pay."
          />
          {errors.products ? (
            <p className="field-error" role="alert">
              {errors.products}
            </p>
          ) : null}
          <p className="hint">You pay the whole order now; the photos follow after picture day.</p>
          <ErrorNote error={act.error} />
          <Submit pending={act.pending}>Pre-order</Submit>
        </form>
      )}
    </Section>
  );
}
