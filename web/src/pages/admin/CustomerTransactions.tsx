// Seed 001's Transactions: every entry on the customer's account, newest first, with
// Refund (a charge back to account credit, or a top-up back to its card; full or partial)
// and Reverse (seed 001's "delete a wrong entry", kept as a visible reversal).
import { useState } from 'react';
import { api } from '../../lib/api';
import { useResource } from '../../lib/hooks';
import { words } from '../../lib/format';
import type { Page as ListPage, Transaction } from '../../lib/types';
import { Loaded, Section, Empty } from '../../components/ui';
import { TransactionsTable } from '../TransactionsTable';
import { RefundTransactionDialog, ReverseDialog } from './TransactionDialogs';

const REVERSIBLE = new Set(['correction', 'charge', 'charge_refund']);

/** "the charge “Private chat”" for an entry on the same page, else its id. */
function describe(rows: Transaction[], id: string): string {
  const t = rows.find((r) => r.id === id);
  return t ? `the ${words(t.type).toLowerCase()}${t.memo ? ` “${t.memo}”` : ''}` : id;
}

export function CustomerTransactions({ customerId, version, onChanged }: { customerId: string; version: number; onChanged: () => void }) {
  const [limit, setLimit] = useState(25);
  const list = useResource(() => api.get<ListPage<Transaction>>(`/v1/customers/${customerId}/transactions`, { limit }), [customerId, version, limit]);
  const [refunding, setRefunding] = useState<Transaction | null>(null);
  const [reversing, setReversing] = useState<Transaction | null>(null);
  const done = () => {
    setRefunding(null);
    setReversing(null);
    onChanged();
  };
  return (
    <Section title="Transactions">
      <Loaded resource={list}>
        {(page) =>
          page.data.length ? (
            <>
              <TransactionsTable
                rows={page.data}
                orderLink={(orderId) => ({ href: `/admin/orders/${orderId}`, label: 'order' })}
                rowAttributes={(t) => ({ 'data-txn': t.id, 'data-type': t.type })}
                notes={(t) => (
                  <>
                    {t.relatedTransactionId ? <span className="muted small"> · for {describe(page.data, t.relatedTransactionId)}</span> : null}
                    {t.reverses ? <span className="muted small"> · reverses {describe(page.data, t.reverses)}</span> : null}
                    {t.reversedBy ? <span className="badge badge-cancelled">Reversed</span> : null}
                  </>
                )}
                actions={(t) => (
                  <div className="row-actions">
                    {(t.type === 'charge' || t.type === 'top_up') && !t.reversedBy ? (
                      <button type="button" className="button-secondary" onClick={() => setRefunding(t)} aria-label={`Refund ${words(t.type).toLowerCase()}: ${t.memo ?? t.id}`}>
                        Refund
                      </button>
                    ) : null}
                    {REVERSIBLE.has(t.type) && !t.reversedBy ? (
                      <button type="button" className="button-danger" onClick={() => setReversing(t)} aria-label={`Reverse ${words(t.type).toLowerCase()}: ${t.memo ?? t.id}`}>
                        Reverse
                      </button>
                    ) : null}
                  </div>
                )}
              />
              {page.has_more ? (
                <button type="button" className="button-secondary" onClick={() => setLimit((l) => Math.min(100, l + 25))}>
                  Show more
                </button>
              ) : null}
            </>
          ) : (
            <Empty>No transactions yet.</Empty>
          )
        }
      </Loaded>
      <RefundTransactionDialog txn={refunding} onClose={() => setRefunding(null)} onDone={done} />
      <ReverseDialog txn={reversing} onClose={() => setReversing(null)} onDone={done} />
    </Section>
  );
}
