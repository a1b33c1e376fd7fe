// The customer's receipt for one order: what was bought, paid and refunded (and why), the
// current step with its deadline, and what they can do now.
import { useState, type ReactNode } from 'react';
import { api } from '../../lib/api';
import { serverNow, useServerClock } from '../../lib/clock';
import { useResource } from '../../lib/hooks';
import { Link } from '../../lib/router';
import { words } from '../../lib/format';
import type { Order } from '../../lib/types';
import { Deadline, DefinitionList, Loaded, Page, Section, StateBadge, Time } from '../../components/ui';
import { Amounts } from '../order/Amounts';
import { CancelDialog, type CancelRequest } from '../order/CancelDialog';
import { OrderLines } from '../order/OrderLines';
import { Payments } from '../order/Payments';
import { Refunds } from '../order/Refunds';
import { canCancelOrder, customerStateLabel, isSession } from '../order/model';
import { JobOrderPanel } from '../order/JobOrderPanel';
import { ClaimPanel } from '../order/StaffActions';
import { ConfirmChanges, ExecutionPanel, ProposalPanel, ReviewPanel } from './Actions';
import { PayPanel } from './PayPanel';
import { SessionsPanel } from './Sessions';

export function Receipt({ id }: { id: string }) {
  useServerClock();
  const order = useResource(() => api.get<Order>(`/v1/orders/${id}`), [id]);
  const [cancel, setCancel] = useState<CancelRequest | null>(null);
  return (
    <Loaded resource={order}>
      {(o) => {
        const set = (next: Order) => order.setData(next);
        const prepay = o.process === 'prepay';
        const sessions = o.lines.some(isSession) && (o.state === 'payment' || o.state === 'execution');
        const mayCancel = o.process === 'booking' && canCancelOrder(o) && o.policies?.allowCustomerCancellation !== false && !sessions;
        return (
          <Page
            title={`Receipt ${o.number}`}
            subtitle={
              <>
                <StateBadge state={o.state} label={customerStateLabel(o)} /> <Link to="/portal">Back to transactions and receipts</Link>
              </>
            }
          >
            <Section title="Your order">
              <DefinitionList
                items={[
                  ['Ordered', <Time key="c" iso={o.createdAt} />],
                  ...(prepay ? [] : ([['Service time', <Time key="s" iso={o.startsAt} />]] as [string, ReactNode][])),
                  ['Step', customerStateLabel(o) ?? words(o.state)],
                  ['Deadline', <Deadline key="d" deadline={o.deadline} />],
                ]}
              />
              <ConfirmChanges order={o} onChange={set} />
              <PayPanel order={o} onChange={set} />
              <ProposalPanel order={o} onChange={set} />
              <ExecutionPanel order={o} onChange={set} />
            </Section>
            {prepay ? (
              <Section title="Picture day">
                <JobOrderPanel order={o} staff={false} />
              </Section>
            ) : null}
            <Section title={prepay ? 'Products' : 'Sessions and items'}>
              <OrderLines order={o} onChange={set} staff={false} />
              <SessionsPanel order={o} onChange={set} serverNowMs={serverNow()} />
              {mayCancel ? (
                <button type="button" className="button-danger" onClick={() => setCancel({ lineIds: null, title: `Cancel order ${o.number}` })}>
                  Cancel order
                </button>
              ) : null}
            </Section>
            <Section title="Payment and refunds">
              <Amounts order={o} />
              <h3>Payments</h3>
              <Payments order={o} onChange={set} staff={false} />
              <h3>Refunds</h3>
              <Refunds order={o} onChange={set} staff={false} />
            </Section>
            {o.claim ? (
              <Section title={prepay ? 'Your complaint' : 'Your claim'}>
                <ClaimPanel order={o} onChange={set} staff={false} />
              </Section>
            ) : null}
            {o.state === 'closed' ? (
              <Section title="Review">
                <ReviewPanel order={o} onChange={set} />
              </Section>
            ) : null}
            <CancelDialog
              order={o}
              request={cancel}
              role="customer"
              onClose={() => setCancel(null)}
              onDone={(next) => {
                setCancel(null);
                set(next);
              }}
            />
          </Page>
        );
      }}
    </Loaded>
  );
}
