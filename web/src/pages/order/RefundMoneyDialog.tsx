// Payment Details → "Refund Money": the amount is pre-filled with the most the card can
// take back (GET /v1/orders/:id/card-refundable), may be lowered for a partial refund, is
// checked here first and then by the server, whose message is shown as it says it.
import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../../lib/api';
import { minorToDecimal, money, parseMoney } from '../../lib/format';
import type { Order, Payment } from '../../lib/types';
import { Modal } from '../../components/Modal';
import { ErrorNote, useAction } from '../../components/Feedback';
import { MoneyField, Submit, TextField } from '../../components/forms';
import { DefinitionList, Money, Time } from '../../components/ui';

interface Refundable {
  paymentId: string;
  amount: number;
  refunded: number;
  maxRefundable: number;
}

export function RefundMoneyDialog({ order, payment, onClose, onDone }: { order: Order; payment: Payment | null; onClose: () => void; onDone: (o: Order) => void }) {
  const [info, setInfo] = useState<Refundable | null>(null);
  const [step, setStep] = useState<'details' | 'refund'>('details');
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState('');
  const [amountError, setAmountError] = useState<string | null>(null);
  const loading = useAction();
  const refunding = useAction();
  const { run: runLoad } = loading;
  const c = order.currency;
  useEffect(() => {
    if (!payment) return;
    setStep('details');
    setInfo(null);
    setAmountError(null);
    void runLoad(async () => {
      const r = await api.get<{ data: Refundable[] }>(`/v1/orders/${order.id}/card-refundable`);
      const mine = r.data.find((x) => x.paymentId === payment.id) ?? null;
      setInfo(mine);
      if (mine) setAmount(minorToDecimal(mine.maxRefundable, c));
    });
  }, [payment, order.id, c, runLoad]);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!payment || !info) return;
    const parsed = parseMoney(amount, c);
    if (!parsed.ok) return setAmountError(parsed.error);
    if (parsed.minor > info.maxRefundable) {
      return setAmountError(`You cannot refund more to the card than ${money(info.maxRefundable, c)} (what it can take back now).`);
    }
    setAmountError(null);
    const done = await refunding.run(
      () => api.post<Order>(`/v1/orders/${order.id}/payments/${payment.id}/refunds`, { amount: parsed.minor, ...(reason.trim() ? { reason: reason.trim() } : {}) }),
      (o) => {
        const last = [...o.refunds].reverse().find((r) => r.destination === 'card');
        return `Refund of ${money(parsed.minor, c)} to the card: ${last?.status ?? 'sent'}.`;
      },
    );
    if (done) onDone(done);
  };
  return (
    <Modal title="Payment Details" open={payment !== null} onClose={onClose}>
      <ErrorNote error={loading.error} />
      {payment && info ? (
        <>
          <DefinitionList
            items={[
              ['Method', `Card${payment.paymentMethod ? ` (${payment.paymentMethod})` : ''}`],
              ['Charged', <Money key="a" minor={info.amount} currency={c} />],
              ['Already refunded to the card', <Money key="r" minor={info.refunded} currency={c} />],
              ['Can go back to the card now', <Money key="m" minor={info.maxRefundable} currency={c} />],
              ['Paid at', <Time key="t" iso={payment.createdAt} />],
            ]}
          />
          {step === 'details' ? (
            <div className="button-row">
              <button type="button" className="button-primary" onClick={() => setStep('refund')} disabled={info.maxRefundable === 0}>
                Refund Money
              </button>
              {info.maxRefundable === 0 ? (
                <p className="hint">Nothing can go back to this card now: refund the order (or cancel lines) to account credit first.</p>
              ) : null}
            </div>
          ) : (
            <form onSubmit={submit} noValidate className="form">
              <MoneyField
                label="Amount to Refund"
                currency={c}
                value={amount}
                onChange={(v) => {
                  setAmount(v);
                  setAmountError(null);
                }}
                error={amountError}
                hint={`At most ${money(info.maxRefundable, c)}. Account funds used on the order stay on the customer's account.`}
              />
              <TextField label="Reason (optional)" value={reason} onChange={setReason} maxLength={1000} />
              <ErrorNote error={refunding.error} />
              <div className="button-row">
                <Submit pending={refunding.pending}>Refund</Submit>
                <button type="button" className="button-secondary" onClick={onClose}>
                  Cancel
                </button>
              </div>
            </form>
          )}
        </>
      ) : loading.pending ? (
        <p aria-busy="true">Loading…</p>
      ) : null}
    </Modal>
  );
}
