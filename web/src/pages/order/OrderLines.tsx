// The lines of an order: what, when, for whom, how much, and their status — with staff's
// per-line Done and Cancel (seed 000's delete button) and "Cancel all undone lines".
import { useState } from 'react';
import { api } from '../../lib/api';
import type { Order } from '../../lib/types';
import { useAction, ErrorNote } from '../../components/Feedback';
import { Money, TableWrap } from '../../components/ui';
import { TrashIcon } from '../../components/icons';
import { timeRange } from '../../lib/format';
import { useTimeZone } from '../../lib/session';
import { CancelDialog, type CancelRequest } from './CancelDialog';
import { canCancelOrder, lineCancellable, lineStatusText } from './model';

export function OrderLines({ order, onChange, staff }: { order: Order; onChange: (o: Order) => void; staff: boolean }) {
  const zone = useTimeZone();
  const [cancel, setCancel] = useState<CancelRequest | null>(null);
  const done = useAction();
  const direct = order.process === 'direct';
  const markDone = (lineId: string, description: string) =>
    void done.run(async () => onChange(await api.post<Order>(`/v1/orders/${order.id}/lines/${lineId}/done`, {})), `"${description}" marked done.`);
  const anyTimes = order.lines.some((l) => l.startsAt);
  const anyParticipants = order.lines.some((l) => l.participantName);
  return (
    <div className="order-lines">
      <TableWrap label={`Lines of ${order.number}`}>
        <thead>
          <tr>
            <th scope="col">Item</th>
            {anyTimes ? <th scope="col">When</th> : null}
            {anyParticipants ? <th scope="col">Participant</th> : null}
            <th scope="col" className="num">
              Qty
            </th>
            <th scope="col" className="num">
              Amount
            </th>
            <th scope="col">Status</th>
            {staff ? (
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody>
          {order.lines.map((l) => (
            <tr key={l.id} data-line={l.id} className={`line-${l.status}`}>
              <td>{l.description}</td>
              {anyTimes ? <td>{timeRange(l.startsAt, l.endsAt, zone)}</td> : null}
              {anyParticipants ? <td>{l.participantName ?? '—'}</td> : null}
              <td className="num">{l.quantity}</td>
              <td className="num">
                <Money minor={l.amount} currency={order.currency} />
              </td>
              <td data-testid="line-status">{lineStatusText(order, l)}</td>
              {staff ? (
                <td>
                  <div className="row-actions">
                  {direct && order.state === 'delivery' && l.status === 'open' ? (
                    <button type="button" className="button-secondary" disabled={done.pending} onClick={() => markDone(l.id, l.description)} aria-label={`Done: ${l.description}`}>
                      Done
                    </button>
                  ) : null}
                  {lineCancellable(order, l, 'admin') ? (
                    <button
                      type="button"
                      className="button-danger icon-text"
                      onClick={() => setCancel({ lineIds: [l.id], title: `Cancel "${l.description}"` })}
                      aria-label={`Delete (cancel) ${l.description}`}
                      title="Cancel this line"
                    >
                      <TrashIcon /> Delete
                    </button>
                  ) : null}
                  </div>
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </TableWrap>
      <ErrorNote error={done.error} />
      {staff && canCancelOrder(order) ? (
        <div className="button-row">
          <button type="button" className="button-danger" onClick={() => setCancel({ lineIds: null, title: direct ? 'Cancel all undone lines' : `Cancel order ${order.number}` })}>
            {direct ? 'Cancel all undone lines' : 'Cancel order'}
          </button>
        </div>
      ) : null}
      <CancelDialog
        order={order}
        request={cancel}
        role="admin"
        onClose={() => setCancel(null)}
        onDone={(o) => {
          setCancel(null);
          onChange(o);
        }}
      />
    </div>
  );
}
