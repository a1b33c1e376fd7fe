// The provider's order page: confirm, edit (date, time, price, comment), cancel with a
// reason, propose a change once paid, and mark the service done.
import { useState } from 'react';
import { api } from '../../lib/api';
import { serverNow, useServerClock } from '../../lib/clock';
import { useResource } from '../../lib/hooks';
import { words } from '../../lib/format';
import type { Order } from '../../lib/types';
import { ErrorNote, useAction } from '../../components/Feedback';
import { Deadline, DefinitionList, Loaded, Page, Section, StateBadge, Time } from '../../components/ui';
import { Amounts } from '../order/Amounts';
import { CancelDialog, type CancelRequest } from '../order/CancelDialog';
import { OrderLines } from '../order/OrderLines';
import { canCancelOrder, latestStart, markDoneReady, openLinesAhead } from '../order/model';
import { EditOrderForm } from './EditOrderForm';

export function ProviderOrder({ id }: { id: string }) {
  useServerClock();
  const order = useResource(() => api.get<Order>(`/v1/orders/${id}`), [id]);
  const [editing, setEditing] = useState<'edit' | 'proposal' | null>(null);
  const [cancel, setCancel] = useState<CancelRequest | null>(null);
  const act = useAction();
  return (
    <Loaded resource={order}>
      {(o) => {
        const set = (next: Order) => {
          setEditing(null);
          order.setData(next);
        };
        const post = (path: string, message: string) => () => void act.run(async () => set(await api.post<Order>(`/v1/orders/${o.id}/${path}`, {})), message);
        const nowMs = serverNow();
        const started = o.startsAt ? Date.parse(o.startsAt) <= nowMs : true;
        // Under way, but not to be marked done yet: sessions still ahead (booking 1.1.0).
        const ahead = o.state === 'execution' && started && !markDoneReady(o, nowMs) ? openLinesAhead(o, nowMs) : [];
        const confirming = o.state === 'confirmation';
        return (
          <Page title={`Order ${o.number}`} subtitle={<StateBadge state={o.state} />}>
            <Section title="Order">
              <DefinitionList
                items={[
                  ['Service time', <Time key="s" iso={o.startsAt} />],
                  ['Step', `${words(o.state)}${o.awaiting ? ` · waiting for the ${o.awaiting}` : ''}`],
                  ['Deadline', <Deadline key="d" deadline={o.deadline} />],
                  ...(o.comment ? ([['Comment', o.comment]] as [string, string][]) : []),
                ]}
              />
              {editing ? (
                <EditOrderForm order={o} mode={editing} onDone={set} onCancel={() => setEditing(null)} />
              ) : (
                <div className="button-row">
                  {confirming && o.awaiting === 'provider' ? (
                    <button type="button" className="button-primary" disabled={act.pending} onClick={post('confirm', 'Order confirmed. The customer can pay now.')}>
                      Confirm order
                    </button>
                  ) : null}
                  {confirming && !started ? (
                    <button type="button" className="button-secondary" onClick={() => setEditing('edit')}>
                      Edit order
                    </button>
                  ) : null}
                  {o.state === 'execution' && !started && !o.proposal ? (
                    <button type="button" className="button-secondary" onClick={() => setEditing('proposal')}>
                      Edit order (propose a change)
                    </button>
                  ) : null}
                  {o.state === 'execution' && markDoneReady(o, nowMs) ? (
                    <button type="button" className="button-primary" disabled={act.pending} onClick={post('mark-done', 'Marked done. The customer is asked to confirm.')}>
                      Done
                    </button>
                  ) : null}
                  {ahead.map((l) => (
                    <button key={l.id} type="button" className="button-danger" onClick={() => setCancel({ lineIds: [l.id], title: `Cancel "${l.description}"` })}>
                      Cancel "{l.description}"
                    </button>
                  ))}
                  {canCancelOrder(o) && !started && o.process === 'booking' ? (
                    <button type="button" className="button-danger" onClick={() => setCancel({ lineIds: null, title: `Cancel order ${o.number}` })}>
                      Cancel order
                    </button>
                  ) : null}
                </div>
              )}
              <ErrorNote error={act.error} />
              {ahead.length > 0 ? (
                <p className="callout" data-testid="done-later">
                  You can mark this order done once every session has started: the last one starts <Time iso={latestStart(o, ahead)} />. Cancel the sessions that
                  will not take place.
                </p>
              ) : null}
              {o.proposal ? (
                <p className="callout" data-testid="proposal">
                  Your proposed change (<Time iso={o.proposal.proposedAt} />) is waiting for the customer.
                </p>
              ) : null}
            </Section>
            <Section title="Lines">
              <OrderLines order={o} onChange={set} staff={false} />
            </Section>
            <Section title="Money">
              <Amounts order={o} payout />
            </Section>
            <CancelDialog order={o} request={cancel} role="provider" onClose={() => setCancel(null)} onDone={(next) => { setCancel(null); set(next); }} />
          </Page>
        );
      }}
    </Loaded>
  );
}
