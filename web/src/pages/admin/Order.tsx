// Staff's order page: state and the live deadline, lines with their actions, payments with
// the card-refund pencil, refunds, claims, and the full event timeline.
import type { ReactNode } from 'react';
import { api } from '../../lib/api';
import { nameOf, useDirectory } from '../../lib/directory';
import { useResource } from '../../lib/hooks';
import { useServerClock } from '../../lib/clock';
import { Link } from '../../lib/router';
import { words } from '../../lib/format';
import type { Order } from '../../lib/types';
import { Deadline, DefinitionList, Loaded, Page, Section, StateBadge, Time } from '../../components/ui';
import { Amounts } from '../order/Amounts';
import { OrderLines } from '../order/OrderLines';
import { Payments } from '../order/Payments';
import { Refunds } from '../order/Refunds';
import { Timeline } from '../order/Timeline';
import { ClaimPanel, StaffRefund, StaffTransitions } from '../order/StaffActions';
import { JobOrderPanel } from '../order/JobOrderPanel';
import { processLabel } from '../order/model';

// Where staff refund part of an order: while it holds its money, and once it has ended,
// from the provider payout while that is not paid (refundable then says how much).
const REFUNDABLE_STATES = ['execution', 'execution_confirmation', 'delivery', 'closed', 'cancelled', 'collection', 'revision', 'batch', 'production'];

export function AdminOrder({ id }: { id: string }) {
  useServerClock();
  const dir = useDirectory();
  const order = useResource(() => api.get<Order>(`/v1/orders/${id}`), [id]);
  return (
    <Loaded resource={order}>
      {(o) => {
        const set = (next: Order) => order.setData(next);
        return (
          <Page
            title={`Order ${o.number}`}
            subtitle={
              <>
                <StateBadge state={o.state} /> {processLabel(o.process)}
                {o.awaiting ? <> · waiting for the {words(o.awaiting).toLowerCase()}</> : null}
              </>
            }
            actions={
              <button type="button" className="button-secondary" onClick={() => void order.reload()}>
                Refresh
              </button>
            }
          >
            <Section title="Summary">
              <DefinitionList
                items={[
                  ['Customer', <Link key="c" to={`/admin/customers/${o.customerId}`}>{nameOf(dir, o.customerId)}</Link>],
                  ['Provider', <Link key="p" to={`/admin/providers/${o.providerId}`}>{nameOf(dir, o.providerId)}</Link>],
                  ...(o.siteId ? ([['Site', <Link key="s" to={`/admin/sites/${o.siteId}`}>{nameOf(dir, o.siteId)}</Link>]] as [string, ReactNode][]) : []),
                  ...(o.process === 'prepay' && !o.startsAt ? [] : ([['Service time', <Time key="t" iso={o.startsAt} />]] as [string, ReactNode][])),
                  ['Current deadline', <Deadline key="d" deadline={o.deadline} />],
                  ['Created', <Time key="cr" iso={o.createdAt} />],
                  ...(o.comment ? ([['Comment', o.comment]] as [string, string][]) : []),
                ]}
              />
              <StaffTransitions order={o} onChange={set} />
            </Section>
            {o.process === 'prepay' ? (
              <Section title="Prepay job">
                <JobOrderPanel order={o} staff />
              </Section>
            ) : null}
            <Section title="Lines">
              <OrderLines order={o} onChange={set} staff />
            </Section>
            <Section title="Money">
              <Amounts order={o} payout />
              <h3>Payments</h3>
              <Payments order={o} onChange={set} staff />
              <h3>Refunds</h3>
              <Refunds order={o} onChange={set} staff />
              {REFUNDABLE_STATES.includes(o.state) && o.amounts.refundable > 0 ? (
                <details className="disclosure">
                  <summary>Refund part of this order</summary>
                  <StaffRefund order={o} onChange={set} />
                </details>
              ) : null}
            </Section>
            {o.claim ? (
              <Section title="Claim">
                <ClaimPanel order={o} onChange={set} staff />
              </Section>
            ) : null}
            {o.proposal ? (
              <Section title="Proposed change">
                <p>
                  The {o.proposal.proposedBy} proposed a change on <Time iso={o.proposal.proposedAt} />; waiting for the customer.
                </p>
              </Section>
            ) : null}
            {o.review ? (
              <Section title="Review">
                <p>
                  {'★'.repeat(o.review.rating)}
                  {'☆'.repeat(5 - o.review.rating)} <span className="sr-only">{o.review.rating} of 5</span> {o.review.comment}
                </p>
              </Section>
            ) : null}
            <Section title="Event timeline">
              <Timeline events={o.events ?? []} />
            </Section>
          </Page>
        );
      }}
    </Loaded>
  );
}
