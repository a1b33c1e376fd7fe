// Seed 003: "Edit Session(s)" — a popup listing the sessions, each with Edit (another date
// and time slot with free seats, or another participant), and check boxes to choose
// sessions for "Cancel Session(s)", which leads to the confirm step with the exact refund.
import { useState } from 'react';
import type { Order } from '../../lib/types';
import { timeRange } from '../../lib/format';
import { useTimeZone } from '../../lib/session';
import { Modal } from '../../components/Modal';
import { CancelDialog, type CancelRequest } from '../order/CancelDialog';
import { isSession, lineStatusText } from '../order/model';
import { EditSessionForm } from './EditSessionForm';

export function SessionsPanel({ order, onChange, serverNowMs }: { order: Order; onChange: (o: Order) => void; serverNowMs: number }) {
  const zone = useTimeZone();
  const [open, setOpen] = useState(false);
  const [editing, setEditing] = useState<string | null>(null);
  const [checked, setChecked] = useState<string[]>([]);
  const [cancel, setCancel] = useState<CancelRequest | null>(null);
  const [checkError, setCheckError] = useState<string | null>(null);
  const sessions = order.lines.filter(isSession);
  const active = order.state === 'payment' || order.state === 'execution';
  if (!sessions.length || !active) return null;
  const allowEdits = order.policies?.allowCustomerEdits !== false;
  const allowCancel = order.policies?.allowCustomerCancellation !== false;
  const upcoming = (startsAt: string | null) => !startsAt || Date.parse(startsAt) > serverNowMs;
  const toggle = (id: string, on: boolean) => {
    setChecked((c) => (on ? [...c, id] : c.filter((x) => x !== id)));
    setCheckError(null);
  };
  const line = sessions.find((l) => l.id === editing) ?? null;
  return (
    <div className="sessions-panel">
      <button type="button" className="button-primary" onClick={() => setOpen(true)}>
        Edit session(s)
      </button>
      {!allowEdits ? <p className="hint">This business does not allow changing sessions online; you can still cancel.</p> : null}
      <Modal title={line ? 'Edit session' : 'Your sessions'} open={open} onClose={() => (line ? setEditing(null) : setOpen(false))} wide>
        {line ? (
          <EditSessionForm
            order={order}
            line={line}
            onCancel={() => setEditing(null)}
            onSaved={(o) => {
              setEditing(null);
              onChange(o);
            }}
          />
        ) : (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              if (!checked.length) {
                setCheckError('Tick the session(s) you want to cancel.');
                return;
              }
              setCheckError(null);
              setCancel({ lineIds: checked, title: checked.length > 1 ? `Cancel ${checked.length} sessions` : 'Cancel session' });
            }}
          >
            <fieldset>
              <legend>Choose sessions to cancel, or edit one</legend>
              <ul className="session-list">
                {sessions.map((l) => {
                  const selectable = l.status === 'open' && upcoming(l.startsAt) && allowCancel;
                  return (
                    <li key={l.id} data-session={l.id}>
                      <input
                        type="checkbox"
                        id={`cancel-${l.id}`}
                        checked={checked.includes(l.id)}
                        disabled={!selectable}
                        onChange={(e) => toggle(l.id, e.target.checked)}
                      />
                      <label htmlFor={`cancel-${l.id}`}>
                        <strong>{l.description}</strong> · {timeRange(l.startsAt, l.endsAt, zone)}
                        {l.participantName ? ` · ${l.participantName}` : ''}
                        <span className="session-status"> — {lineStatusText(order, l)}</span>
                      </label>
                      {allowEdits && l.status === 'open' && upcoming(l.startsAt) ? (
                        <button type="button" className="button-secondary" onClick={() => setEditing(l.id)} aria-label={`Edit ${l.description}, ${timeRange(l.startsAt, l.endsAt, zone)}`}>
                          Edit
                        </button>
                      ) : null}
                    </li>
                  );
                })}
              </ul>
            </fieldset>
            {checkError ? (
              <p className="field-error" role="alert">
                {checkError}
              </p>
            ) : null}
            {allowCancel ? (
              <button type="submit" className="button-danger">
                Cancel session(s)
              </button>
            ) : (
              <p className="hint">This business does not allow cancelling online.</p>
            )}
          </form>
        )}
      </Modal>
      <CancelDialog
        order={order}
        request={cancel}
        role="customer"
        onClose={() => setCancel(null)}
        onDone={(o) => {
          setCancel(null);
          setChecked([]);
          setOpen(false);
          onChange(o);
        }}
      />
    </div>
  );
}
