// Refunds of an order with their status; staff retry a failed card refund.
import { api } from '../../lib/api';
import { words } from '../../lib/format';
import type { Order } from '../../lib/types';
import { ErrorNote, useAction } from '../../components/Feedback';
import { Money, TableWrap, Time } from '../../components/ui';

export function Refunds({ order, onChange, staff }: { order: Order; onChange: (o: Order) => void; staff: boolean }) {
  const retry = useAction();
  if (!order.refunds.length) return <p className="muted">No refunds.</p>;
  return (
    <>
      <TableWrap label="Refunds">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col" className="num">
              Amount
            </th>
            <th scope="col">To</th>
            <th scope="col">Status</th>
            <th scope="col">Reason</th>
            {staff ? (
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody>
          {order.refunds.map((r) => (
            <tr key={r.id} data-refund={r.id}>
              <td>
                <Time iso={r.createdAt} />
              </td>
              <td className="num">
                <Money minor={r.amount} currency={r.currency} />
              </td>
              <td>{words(r.destination)}</td>
              <td>
                <span className={`badge badge-refund-${r.status}`}>{words(r.status)}</span>
                {r.failureReason ? <span className="small"> {r.failureReason}</span> : null}
              </td>
              <td>{r.reason ?? '—'}</td>
              {staff ? (
                <td>
                  {r.status === 'failed' ? (
                    <button
                      type="button"
                      className="button-secondary"
                      disabled={retry.pending}
                      onClick={() =>
                        void retry.run(async () => {
                          await api.post(`/v1/refunds/${r.id}/retry`, {});
                          onChange(await api.get<Order>(`/v1/orders/${order.id}`));
                        }, 'Refund sent again.')
                      }
                    >
                      Retry
                    </button>
                  ) : null}
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </TableWrap>
      <ErrorNote error={retry.error} />
    </>
  );
}
