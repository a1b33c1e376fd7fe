// Free order lines (what, how many, price each) typed by hand: staff's own lines on a paper
// order, beside the job's price list (a parent orders only from the price list). Rows are
// checked here first; the server checks them again.
import { parseMoney } from '../../lib/format';
import { MoneyField, TextField } from '../../components/forms';

export interface LineRow {
  description: string;
  quantity: string;
  price: string;
}

export interface LineErrors {
  description?: string;
  quantity?: string;
  price?: string;
}

export const emptyLine = (): LineRow => ({ description: '', quantity: '1', price: '' });

export type ParsedLines = { ok: true; lines: { description: string; quantity: number; unitAmount: number }[] } | { ok: false; errors: LineErrors[] };

export function parseLines(rows: LineRow[], currency: string): ParsedLines {
  const errors: LineErrors[] = [];
  const lines = rows.map((r, i) => {
    const e: LineErrors = {};
    if (!r.description.trim()) e.description = 'Say what is ordered.';
    const quantity = Number(r.quantity.trim());
    if (!/^\d+$/.test(r.quantity.trim()) || quantity < 1 || quantity > 10_000) e.quantity = 'A whole number from 1 to 10000.';
    const price = parseMoney(r.price, currency, { allowZero: true });
    if (!price.ok) e.price = price.error;
    errors[i] = e;
    return { description: r.description.trim(), quantity, unitAmount: price.ok ? price.minor : 0 };
  });
  return errors.some((e) => Object.keys(e).length) ? { ok: false, errors } : { ok: true, lines };
}

/**
 * Rows of "Line 1", "Quantity 1", "Price each 1"…; with `optional`, every row can be removed
 * (the order has other lines), otherwise one always stays.
 */
/** What the rows come to, counting only the rows typed in full and correctly. */
export function linesTotal(rows: LineRow[], currency: string): number {
  return rows.reduce((sum, r) => {
    const quantity = /^\d+$/.test(r.quantity.trim()) ? Number(r.quantity.trim()) : 0;
    const price = parseMoney(r.price, currency, { allowZero: true });
    return sum + (price.ok ? price.minor * quantity : 0);
  }, 0);
}

export function LinesEditor({
  rows,
  onChange,
  errors,
  currency,
  legend = 'Lines',
  optional = false,
}: {
  rows: LineRow[];
  onChange: (rows: LineRow[]) => void;
  errors: LineErrors[];
  currency: string;
  legend?: string;
  optional?: boolean;
}) {
  const set = (i: number, key: keyof LineRow) => (value: string) => onChange(rows.map((r, j) => (j === i ? { ...r, [key]: value } : r)));
  return (
    <fieldset className="line-rows">
      <legend>{legend}</legend>
      {rows.map((r, i) => (
        <div className="line-row" key={i} data-testid="line-row">
          <TextField label={`Line ${i + 1}`} value={r.description} onChange={set(i, 'description')} error={errors[i]?.description ?? null} maxLength={500} placeholder="e.g. Package B (paper form)" />
          <TextField label={`Quantity ${i + 1}`} inputMode="numeric" value={r.quantity} onChange={set(i, 'quantity')} error={errors[i]?.quantity ?? null} />
          <MoneyField label={`Price each ${i + 1}`} currency={currency} value={r.price} onChange={set(i, 'price')} error={errors[i]?.price ?? null} />
          {optional || rows.length > 1 ? (
            <button type="button" className="button-secondary" onClick={() => onChange(rows.filter((_, j) => j !== i))} aria-label={`Remove line ${i + 1}`}>
              Remove
            </button>
          ) : (
            <span />
          )}
        </div>
      ))}
      <div>
        <button type="button" className="button-secondary" onClick={() => onChange([...rows, emptyLine()])}>
          {rows.length ? 'Add another line' : 'Add a line of your own'}
        </button>
      </div>
    </fieldset>
  );
}
