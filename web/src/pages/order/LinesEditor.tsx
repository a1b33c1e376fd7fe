// Free order lines (what, how many, price each) typed by hand: a paper order's products, or
// a parent's pre-order when the job has no product list. Rows are checked here first; the
// server checks them again.
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

export function LinesEditor({ rows, onChange, errors, currency }: { rows: LineRow[]; onChange: (rows: LineRow[]) => void; errors: LineErrors[]; currency: string }) {
  const set = (i: number, key: keyof LineRow) => (value: string) => onChange(rows.map((r, j) => (j === i ? { ...r, [key]: value } : r)));
  return (
    <fieldset className="line-rows">
      <legend>Products</legend>
      {rows.map((r, i) => (
        <div className="line-row" key={i} data-testid="line-row">
          <TextField label={`Product ${i + 1}`} value={r.description} onChange={set(i, 'description')} error={errors[i]?.description ?? null} maxLength={500} placeholder="e.g. Package A: 2 prints 5x7, 8 wallets" />
          <TextField label={`Quantity ${i + 1}`} inputMode="numeric" value={r.quantity} onChange={set(i, 'quantity')} error={errors[i]?.quantity ?? null} />
          <MoneyField label={`Price each ${i + 1}`} currency={currency} value={r.price} onChange={set(i, 'price')} error={errors[i]?.price ?? null} />
          {rows.length > 1 ? (
            <button type="button" className="button-secondary" onClick={() => onChange(rows.filter((_, j) => j !== i))} aria-label={`Remove product ${i + 1}`}>
              Remove
            </button>
          ) : (
            <span />
          )}
        </div>
      ))}
      <div>
        <button type="button" className="button-secondary" onClick={() => onChange([...rows, emptyLine()])}>
          Add another product
        </button>
      </div>
    </fieldset>
  );
}
