// "Add order" in the job's order collection: a paper order (seed 002's Q&A) for a student on
// the names list or a blank card (named here, as written on the form), for a customer, with
// products of the job's price list and, if the form says so, lines of staff's own; paid now
// from the customer's account credit or by card, or left for the customer to pay online.
import { useState, type FormEvent } from 'react';
import { api } from '../../../lib/api';
import { customerOptions, useDirectory } from '../../../lib/directory';
import { money } from '../../../lib/format';
import { useSession } from '../../../lib/session';
import type { JobOrder, JobSubject, JobSummary, Order } from '../../../lib/types';
import { ErrorNote, useAction } from '../../../components/Feedback';
import { SelectField, Submit, TextField } from '../../../components/forms';
import { emptyLine, LinesEditor, linesTotal, parseLines, type LineErrors, type LineRow } from '../../order/LinesEditor';
import { parseQuantities, ProductPicker, productsTotal, type Quantities } from '../../order/ProductPicker';
import { SANDBOX_CARDS } from '../../customer/PayPanel';
import { subjectLabel } from './Names';

type Payment = 'later' | 'credit' | 'card';

export function AddOrderForm({ job, subjects, onDone }: { job: JobSummary; subjects: JobSubject[]; onDone: () => void }) {
  const dir = useDirectory();
  const { config } = useSession();
  const [customerId, setCustomerId] = useState('');
  const [code, setCode] = useState('');
  const [student, setStudent] = useState('');
  const [quantities, setQuantities] = useState<Quantities>({});
  const [quantityErrors, setQuantityErrors] = useState<Record<string, string>>({});
  // Lines of staff's own: none while the job has a price list, until asked for.
  const [rows, setRows] = useState<LineRow[]>(job.products.length ? [] : [emptyLine()]);
  const [lineErrors, setLineErrors] = useState<LineErrors[]>([]);
  const [payment, setPayment] = useState<Payment>('credit');
  const [card, setCard] = useState(config.mode === 'sandbox' ? 'pm_card_visa' : '');
  const [errors, setErrors] = useState<{ customer?: string; code?: string; card?: string; lines?: string }>({});
  const [unpaid, setUnpaid] = useState<{ number: string; error: unknown } | null>(null);
  const act = useAction();
  const subject = subjects.find((s) => s.accessCode === code);
  const blank = subject !== undefined && subject.name === null;
  const customer = dir?.customers.find((c) => c.id === customerId);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const picked = parseQuantities(job.products, quantities);
    const parsed = parseLines(rows, job.currency);
    setQuantityErrors(picked.ok ? {} : picked.errors);
    setLineErrors(parsed.ok ? [] : parsed.errors);
    const lines = [...(picked.ok ? picked.lines : []), ...(parsed.ok ? parsed.lines : [])];
    const next = {
      ...(customerId ? {} : { customer: 'Choose the customer (who pays).' }),
      ...(code ? {} : { code: 'Choose the access code on the paper form (a blank card for a student not on the list).' }),
      ...(picked.ok && parsed.ok && !lines.length ? { lines: 'Choose a product of the price list, or write a line of your own.' } : {}),
      ...(payment === 'card' && !card.trim() ? { card: 'Choose the card.' } : {}),
    };
    setErrors(next);
    if (!picked.ok || !parsed.ok || Object.keys(next).length) return;
    let payError: unknown = null;
    const created = await act.run(
      async () => {
        const jo = await api.post<JobOrder>('/v1/pre-orders', { accessCode: code, customerId, lines, ...(blank && student.trim() ? { subjectName: student.trim() } : {}) });
        if (payment !== 'later' && jo.order.state === 'payment') {
          try {
            await api.post<Order>(`/v1/orders/${jo.orderId}/pay`, payment === 'credit' ? { useAccountCredit: true } : { useAccountCredit: false, paymentMethod: card.trim() });
          } catch (err) {
            payError = err;
          }
        }
        return jo;
      },
      (jo) => `Order ${jo.order.number} added to the collection${payError ? '' : payment === 'later' ? '; it waits for the customer to pay' : ' and paid'}.`,
    );
    if (!created) return;
    if (payError) {
      setUnpaid({ number: created.order.number, error: payError });
      return;
    }
    onDone();
  };
  if (unpaid) {
    return (
      <div>
        <p>
          Order <strong>{unpaid.number}</strong> was added to the collection, but the payment was refused; it waits for payment (the customer can pay online).
        </p>
        <ErrorNote error={unpaid.error} />
        <button type="button" className="button-primary" onClick={onDone}>
          Close
        </button>
      </div>
    );
  }
  return (
    <form onSubmit={submit} noValidate className="form" aria-label="Add a paper order">
      <p className="hint">The order joins this job's order collection like an online pre-order. Add students who are not on the names list there first, or use a blank card.</p>
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
      <SelectField
        label="Access code"
        value={code}
        onChange={(v) => {
          setCode(v);
          setErrors(({ code: _fixed, ...rest }) => rest);
        }}
        error={errors.code ?? null}
        options={[{ value: '', label: 'Choose…' }, ...subjects.map((s) => ({ value: s.accessCode, label: subjectLabel(s) }))]}
      />
      {blank ? (
        <TextField
          label="Student's name (blank card, optional)"
          value={student}
          onChange={setStudent}
          maxLength={200}
          hint="As written on the paper form: it names the blank card (for good) and goes on the order's products."
        />
      ) : null}
      {job.products.length ? (
        <ProductPicker
          products={job.products}
          currency={job.currency}
          quantities={quantities}
          onChange={(q) => {
            setQuantities(q);
            setQuantityErrors({});
            setErrors(({ lines: _fixed, ...rest }) => rest);
          }}
          errors={quantityErrors}
          totalLabel="Price list products"
        />
      ) : (
        <p className="callout">This job has no price list yet: write the order's lines yourself, or set up the job's price list first (on this page, under Price list).</p>
      )}
      <LinesEditor
        rows={rows}
        onChange={(r) => {
          setRows(r);
          setLineErrors([]);
          setErrors(({ lines: _fixed, ...rest }) => rest);
        }}
        errors={lineErrors}
        currency={job.currency}
        legend="Lines of your own (not on the price list)"
        optional
      />
      {errors.lines ? (
        <p className="field-error" role="alert">
          {errors.lines}
        </p>
      ) : null}
      <p className="quote-total" data-testid="order-total">
        Order total: <strong>{money(productsTotal(job.products, quantities) + linesTotal(rows, job.currency), job.currency)}</strong>{' '}
        <span className="hint">(before the service fee, if any)</span>
      </p>
      <SelectField
        label="Payment"
        value={payment}
        onChange={(v) => setPayment(v as Payment)}
        options={[
          { value: 'credit', label: `Pay now from the customer's account credit${customer ? ` (balance ${money(customer.balances[job.currency] ?? 0, job.currency)})` : ''}` },
          { value: 'card', label: 'Pay now by card' },
          { value: 'later', label: 'The customer pays online (the order waits for payment)' },
        ]}
      />
      {payment === 'card' ? (
        config.mode === 'sandbox' ? (
          <SelectField label="Card" value={card} onChange={setCard} options={SANDBOX_CARDS} error={errors.card ?? null} />
        ) : (
          <TextField label="Card (payment method)" value={card} onChange={setCard} error={errors.card ?? null} />
        )
      ) : null}
      <ErrorNote error={act.error} />
      <Submit pending={act.pending}>Add order</Submit>
    </form>
  );
}
