// The "Refund transaction" panel (amount pre-filled with what is left, editable for a
// partial refund) and the reversal confirmation.
import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../../lib/api';
import { minorToDecimal, money, parseMoney, words } from '../../lib/format';
import type { Charge, Refund, TopUp, Transaction } from '../../lib/types';
import { Modal } from '../../components/Modal';
import { ErrorNote, useAction } from '../../components/Feedback';
import { MoneyField, Submit, TextField } from '../../components/forms';
import { DefinitionList, Money, Time } from '../../components/ui';

export function RefundTransactionDialog({ txn, onClose, onDone }: { txn: Transaction | null; onClose: () => void; onDone: () => void }) {
  const [source, setSource] = useState<Charge | TopUp | null>(null);
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState('');
  const [amountError, setAmountError] = useState<string | null>(null);
  const load = useAction();
  const act = useAction();
  const { run: runLoad } = load;
  const isCharge = txn?.type === 'charge';
  useEffect(() => {
    if (!txn) return;
    setSource(null);
    setAmountError(null);
    void runLoad(async () => {
      const s = await api.get<Charge | TopUp>(txn.type === 'charge' ? `/v1/charges/${txn.causeId}` : `/v1/top-ups/${txn.causeId}`);
      setSource(s);
      setAmount(minorToDecimal(s.refundableAmount, s.currency));
    });
  }, [txn, runLoad]);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!txn || !source) return;
    const parsed = parseMoney(amount, source.currency);
    if (!parsed.ok) return setAmountError(parsed.error);
    if (parsed.minor > source.refundableAmount) return setAmountError(`At most ${money(source.refundableAmount, source.currency)} is left to refund.`);
    setAmountError(null);
    const path = isCharge ? `/v1/charges/${source.id}/refunds` : `/v1/top-ups/${source.id}/refunds`;
    const refund = await act.run(
      () => api.post<Refund>(path, { amount: parsed.minor, ...(reason.trim() ? { reason: reason.trim() } : {}) }),
      (r) => `Refunded ${money(r.amount, r.currency)} ${isCharge ? "to the customer's account credit" : `to the card (${r.status})`}.`,
    );
    if (refund) {
      setReason('');
      onDone();
    }
  };
  return (
    <Modal title="Refund transaction" open={txn !== null} onClose={onClose}>
      <ErrorNote error={load.error} />
      {txn && source ? (
        <form onSubmit={submit} noValidate className="form">
          <DefinitionList
            items={[
              ['Transaction', `${words(txn.type)} · ${txn.memo ?? ''}`],
              ['Date', <Time key="t" iso={txn.createdAt} />],
              ['Amount', <Money key="a" minor={source.amount} currency={source.currency} />],
              ['Already refunded', <Money key="r" minor={source.refundedAmount} currency={source.currency} />],
            ]}
          />
          <p className="hint">{isCharge ? "The refund goes back to the customer's balance in Settle, not to their bank." : 'The refund goes back to the card that paid for this top-up.'}</p>
          <MoneyField label="Amount to refund" currency={source.currency} value={amount} onChange={(v) => { setAmount(v); setAmountError(null); }} error={amountError} hint={`At most ${money(source.refundableAmount, source.currency)}.`} />
          <TextField label="Reason (optional)" value={reason} onChange={setReason} maxLength={500} />
          <ErrorNote error={act.error} />
          <div className="button-row">
            <Submit pending={act.pending}>Refund</Submit>
            <button type="button" className="button-secondary" onClick={onClose}>
              Cancel
            </button>
          </div>
        </form>
      ) : load.pending ? (
        <p aria-busy="true">Loading…</p>
      ) : null}
    </Modal>
  );
}

export function ReverseDialog({ txn, onClose, onDone }: { txn: Transaction | null; onClose: () => void; onDone: () => void }) {
  const [memo, setMemo] = useState('');
  const act = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!txn) return;
    const done = await act.run(() => api.post<Transaction>(`/v1/transactions/${txn.id}/reverse`, memo.trim() ? { memo: memo.trim() } : {}), 'Entry reversed: a linked reversal was added.');
    if (done) {
      setMemo('');
      onDone();
    }
  };
  return (
    <Modal title="Reverse this entry" open={txn !== null} onClose={onClose}>
      {txn ? (
        <form onSubmit={submit} noValidate className="form">
          <p>
            {words(txn.type)} of <Money minor={txn.amount} currency={txn.currency} signed /> on <Time iso={txn.createdAt} />
            {txn.memo ? ` — “${txn.memo}”` : ''}. A reversal is a new entry that undoes it; the original stays visible.
          </p>
          <TextField label="Memo" value={memo} onChange={setMemo} maxLength={500} hint="Why it is reversed, e.g. “Wrong entry”." />
          <ErrorNote error={act.error} />
          <div className="button-row">
            <Submit pending={act.pending} variant="danger">
              Reverse
            </Submit>
            <button type="button" className="button-secondary" onClick={onClose}>
              Keep it
            </button>
          </div>
        </form>
      ) : null}
    </Modal>
  );
}
