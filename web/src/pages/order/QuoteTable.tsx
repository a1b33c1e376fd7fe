// A cancellation quote, line by line: the amount, the refund, and the rule that gave it.
import type { Quote } from '../../lib/types';
import { Money, TableWrap, Time } from '../../components/ui';

export function QuoteTable({ quote }: { quote: Quote }) {
  const c = quote.currency;
  return (
    <div className="quote" data-testid="quote">
      <TableWrap label="What would be refunded">
        <thead>
          <tr>
            <th scope="col">Line</th>
            <th scope="col">Starts</th>
            <th scope="col" className="num">
              Paid
            </th>
            <th scope="col" className="num">
              Refund
            </th>
            <th scope="col">Why</th>
          </tr>
        </thead>
        <tbody>
          {quote.lines.map((l) => (
            <tr key={l.lineId}>
              <td>{l.description}</td>
              <td>
                <Time iso={l.startsAt} />
                {l.hoursBeforeStart !== null ? <span className="muted small"> ({l.hoursBeforeStart} h before)</span> : null}
              </td>
              <td className="num">
                <Money minor={l.amount} currency={c} />
              </td>
              <td className="num">
                <Money minor={l.refund} currency={c} />
              </td>
              <td>{l.explanation}</td>
            </tr>
          ))}
          {quote.serviceFee && quote.serviceFee.amount > 0 ? (
            <tr>
              <td>Service fee</td>
              <td />
              <td className="num">
                <Money minor={quote.serviceFee.amount} currency={c} />
              </td>
              <td className="num">
                <Money minor={quote.serviceFee.refund} currency={c} />
              </td>
              <td>{quote.serviceFee.explanation}</td>
            </tr>
          ) : null}
        </tbody>
      </TableWrap>
      <p className="quote-total">
        Refund in total: <strong data-testid="quote-total">{<Money minor={quote.total} currency={c} />}</strong>
        {quote.total > 0 ? (
          <span className="muted">
            {' '}
            — to account credit <Money minor={quote.destination.accountCredit} currency={c} />
            {quote.destination.card ? (
              <>
                , to the card <Money minor={quote.destination.card} currency={c} />
              </>
            ) : null}
          </span>
        ) : null}
      </p>
    </div>
  );
}
