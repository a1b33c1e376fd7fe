// What the customer can do on their receipt, by the order's state: confirm changes, pay,
// answer a proposal, confirm the execution or open a claim, and review.
import { useState, type FormEvent } from 'react';
import { api } from '../../lib/api';
import { money } from '../../lib/format';
import type { Order } from '../../lib/types';
import { ErrorNote, useAction } from '../../components/Feedback';
import { Submit, TextArea } from '../../components/forms';
import { Time } from '../../components/ui';

type Props = { order: Order; onChange: (o: Order) => void };

export function ConfirmChanges({ order, onChange }: Props) {
  const act = useAction();
  if (order.state !== 'confirmation' || order.awaiting !== 'customer') return null;
  return (
    <div className="callout">
      <p>
        The provider changed this order{order.comment ? `: “${order.comment}”` : ''}. Please confirm the new terms (total {money(order.amounts.total, order.currency)}), or cancel.
      </p>
      <button
        type="button"
        className="button-primary"
        disabled={act.pending}
        onClick={() => void act.run(async () => onChange(await api.post<Order>(`/v1/orders/${order.id}/confirm`, {})), 'Confirmed. You can pay now.')}
      >
        Confirm the order
      </button>
      <ErrorNote error={act.error} />
    </div>
  );
}

export function ProposalPanel({ order, onChange }: Props) {
  const act = useAction();
  const p = order.proposal;
  if (!p || order.state !== 'execution') return null;
  const c = order.currency;
  return (
    <div className="callout" data-testid="proposal">
      <p>
        <strong>The provider proposes a change</strong> (<Time iso={p.proposedAt} />):
      </p>
      <ul>
        {p.startsAtAfter && p.startsAtAfter !== order.startsAt ? (
          <li>
            New time: <Time iso={p.startsAtAfter} /> (now <Time iso={order.startsAt} />)
          </li>
        ) : null}
        {p.priceDifference ? (
          <li>
            New total: {money(p.total, c)} — you get {money(p.priceDifference, c)} back when you accept
          </li>
        ) : null}
        {p.comment ? <li>Comment: “{p.comment}”</li> : null}
      </ul>
      <div className="button-row">
        <button
          type="button"
          className="button-primary"
          disabled={act.pending}
          onClick={() => void act.run(async () => onChange(await api.post<Order>(`/v1/orders/${order.id}/proposal/accept`, { proposalId: p.id })), 'Change accepted.')}
        >
          Accept the change
        </button>
        <button
          type="button"
          className="button-secondary"
          disabled={act.pending}
          onClick={() => void act.run(async () => onChange(await api.post<Order>(`/v1/orders/${order.id}/proposal/decline`, { proposalId: p.id })), 'Change declined; the order stays as it was.')}
        >
          Decline
        </button>
      </div>
      <ErrorNote error={act.error} />
    </div>
  );
}

export function ExecutionPanel({ order, onChange }: Props) {
  const confirm = useAction();
  const claim = useAction();
  const [reason, setReason] = useState('');
  const [reasonError, setReasonError] = useState<string | null>(null);
  // A picture-day order in production: the parent confirms receipt or complains.
  const prepay = order.process === 'prepay';
  if (order.state !== (prepay ? 'production' : 'execution_confirmation')) return null;
  const openClaim = async (e: FormEvent) => {
    e.preventDefault();
    if (!reason.trim()) return setReasonError('Tell us what went wrong.');
    setReasonError(null);
    const done = await claim.run(() => api.post<Order>(`/v1/orders/${order.id}/claims`, { reason: reason.trim() }), prepay ? 'Complaint sent. Staff will look into it.' : 'Claim opened. Staff will look into it.');
    if (done) onChange(done);
  };
  return (
    <div className="callout">
      <p>{prepay ? 'Your order went to production. Once it has arrived, confirm receipt — or, if you are not satisfied, open a complaint or give feedback.' : 'Was the service provided as agreed? Confirm it, or open a claim if not.'}</p>
      <button
        type="button"
        className="button-primary"
        disabled={confirm.pending}
        onClick={() => void confirm.run(async () => onChange(await api.post<Order>(`/v1/orders/${order.id}/confirm-execution`, {})), 'Thank you! The order is closed.')}
      >
        {prepay ? 'Confirm receipt' : 'Confirm the service was provided'}
      </button>
      <ErrorNote error={confirm.error} />
      <form onSubmit={openClaim} noValidate className="form" aria-label={prepay ? 'Open a complaint' : 'Open a claim'}>
        <TextArea label={prepay ? 'What is wrong, or your feedback' : 'What went wrong?'} value={reason} onChange={(v) => { setReason(v); setReasonError(null); }} error={reasonError} maxLength={1000} />
        <ErrorNote error={claim.error} />
        <Submit pending={claim.pending} variant="secondary">
          {prepay ? 'Open a complaint' : 'Open a claim'}
        </Submit>
      </form>
    </div>
  );
}

export function ReviewPanel({ order, onChange }: Props) {
  const [rating, setRating] = useState(0);
  const [comment, setComment] = useState('');
  const [ratingError, setRatingError] = useState<string | null>(null);
  const act = useAction();
  if (order.state !== 'closed') return null;
  if (order.review) {
    return (
      <p>
        Your review: {'★'.repeat(order.review.rating)}
        {'☆'.repeat(5 - order.review.rating)} <span className="sr-only">{order.review.rating} of 5</span> {order.review.comment}
      </p>
    );
  }
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (rating < 1) return setRatingError('Choose a rating from 1 to 5 stars.');
    setRatingError(null);
    const done = await act.run(() => api.post<Order>(`/v1/orders/${order.id}/reviews`, { rating, ...(comment.trim() ? { comment: comment.trim() } : {}) }), 'Thank you for your review!');
    if (done) onChange(done);
  };
  return (
    <form onSubmit={submit} noValidate className="form" aria-label="Leave a review">
      <fieldset className="stars" aria-describedby={ratingError ? 'rating-error' : undefined}>
        <legend>Your rating</legend>
        {[1, 2, 3, 4, 5].map((n) => (
          <label key={n}>
            <input type="radio" name="rating" value={n} checked={rating === n} onChange={() => {
                setRating(n);
                setRatingError(null);
              }} />
            {n} {n === 1 ? 'star' : 'stars'}
          </label>
        ))}
      </fieldset>
      {ratingError ? (
        <p className="field-error" id="rating-error" role="alert">
          {ratingError}
        </p>
      ) : null}
      <TextArea label="Your review (optional)" value={comment} onChange={setComment} maxLength={4000} />
      <ErrorNote error={act.error} />
      <Submit pending={act.pending}>Send review</Submit>
    </form>
  );
}
