// Cancelling: the server's quote first (what each line would refund, by which rule), then
// the confirmation. What is shown is exactly what the cancellation will refund.
import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../../lib/api';
import { money } from '../../lib/format';
import type { Order, Quote } from '../../lib/types';
import { Modal } from '../../components/Modal';
import { ErrorNote, useAction } from '../../components/Feedback';
import { SelectField, Submit, TextArea } from '../../components/forms';
import { QuoteTable } from './QuoteTable';

export interface CancelRequest {
  /** Some lines, or all undone lines (direct) / the whole order (booking) when null. */
  lineIds: string[] | null;
  title: string;
}

export function CancelDialog({
  order,
  request,
  onClose,
  onDone,
  role,
}: {
  order: Order;
  request: CancelRequest | null;
  onClose: () => void;
  onDone: (o: Order) => void;
  role: 'admin' | 'customer' | 'provider';
}) {
  const [quote, setQuote] = useState<Quote | null>(null);
  const [reason, setReason] = useState('');
  const [destination, setDestination] = useState('');
  const [reasonError, setReasonError] = useState<string | null>(null);
  const quoting = useAction();
  const cancelling = useAction();
  const { run: runQuote } = quoting;
  const lineKey = request?.lineIds?.join(',') ?? 'all';
  useEffect(() => {
    if (!request) return;
    setQuote(null);
    void runQuote(async () => {
      const body = { ...(request.lineIds ? { lineIds: request.lineIds } : {}), ...(destination ? { refundDestination: destination } : {}) };
      setQuote(await api.post<Quote>(`/v1/orders/${order.id}/cancellation-quote`, body));
    });
  }, [request, lineKey, destination, order.id, runQuote]);
  const needsReason = role === 'provider';
  const confirm = async (e: FormEvent) => {
    e.preventDefault();
    if (needsReason && !reason.trim()) {
      setReasonError('Give the customer a reason for cancelling.');
      return;
    }
    setReasonError(null);
    const body = {
      ...(request?.lineIds ? { lineIds: request.lineIds } : order.process === 'direct' ? { undoneLines: true } : {}),
      ...(reason.trim() ? { reason: reason.trim() } : {}),
      ...(destination ? { refundDestination: destination } : {}),
    };
    const done = await cancelling.run(
      () => api.post<Order>(`/v1/orders/${order.id}/cancel`, body),
      (o) => {
        const refunded = quote?.total ?? 0;
        const names = (request?.lineIds ?? []).map((id) => `“${o.lines.find((l) => l.id === id)?.description ?? id}”`);
        const what = names.length ? names.join(', ') : o.process === 'direct' ? 'All undone lines' : `Order ${o.number}`;
        return `${what} cancelled. ${refunded ? `Refund: ${money(refunded, o.currency)}.` : 'No refund.'}`;
      },
    );
    if (done) {
      setReason('');
      onDone(done);
    }
  };
  return (
    <Modal title={request?.title ?? 'Cancel'} open={request !== null} onClose={onClose} wide>
      {quoting.pending && !quote ? <p aria-busy="true">Working out the refund…</p> : null}
      <ErrorNote error={quoting.error} />
      {quote ? (
        <form onSubmit={confirm} className="form" noValidate>
          <QuoteTable quote={quote} />
          {role === 'admin' && quote.total > 0 ? (
            <SelectField
              label="Refund to"
              value={destination}
              onChange={setDestination}
              options={[
                { value: '', label: `Default (${quote.destination.requested === 'card' ? 'card' : 'account credit'})` },
                { value: 'account_credit', label: 'Account credit' },
                { value: 'card', label: 'Card (what the card paid; the rest to account credit)' },
              ]}
            />
          ) : null}
          <TextArea
            label={needsReason ? 'Reason (required)' : 'Reason (optional)'}
            value={reason}
            onChange={(v) => {
              setReason(v);
              setReasonError(null);
            }}
            error={reasonError}
            maxLength={1000}
          />
          <ErrorNote error={cancelling.error} />
          <div className="button-row">
            <Submit pending={cancelling.pending} variant="danger">
              {request?.lineIds && request.lineIds.length > 1 ? 'Confirm cancellations' : 'Confirm cancellation'}
            </Submit>
            <button type="button" className="button-secondary" onClick={onClose}>
              Keep {request?.lineIds?.length === 1 ? 'it' : 'them'}
            </button>
          </div>
        </form>
      ) : null}
    </Modal>
  );
}
