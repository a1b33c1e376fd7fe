// A job's price list to order from (seed 002): each product with its price, a quantity to
// type or step, and the total. A parent's pre-order is only this (the server refuses any
// other line); staff may add lines of their own beside it (LinesEditor).
import type { JobProduct } from '../../lib/types';
import { money } from '../../lib/format';

/** Quantities typed per product (serviceId → text); a missing or empty one is 0. */
export type Quantities = Record<string, string>;

export const MAX_QUANTITY = 10_000;

export type ParsedQuantities =
  | { ok: true; lines: { serviceId: string; quantity: number }[] }
  | { ok: false; errors: Record<string, string> };

function quantityOf(text: string | undefined): number | null {
  const t = (text ?? '').trim();
  if (!t) return 0;
  if (!/^\d+$/.test(t)) return null;
  const n = Number(t);
  return n <= MAX_QUANTITY ? n : null;
}

/** The lines to order ({serviceId, quantity} of the products with a quantity), in the list's order. */
export function parseQuantities(products: JobProduct[], quantities: Quantities): ParsedQuantities {
  const errors: Record<string, string> = {};
  const lines: { serviceId: string; quantity: number }[] = [];
  for (const p of products) {
    const n = quantityOf(quantities[p.serviceId]);
    if (n === null) errors[p.serviceId] = `A whole number from 0 to ${MAX_QUANTITY}.`;
    else if (n > 0) lines.push({ serviceId: p.serviceId, quantity: n });
  }
  return Object.keys(errors).length ? { ok: false, errors } : { ok: true, lines };
}

/** What the chosen products come to (quantities that are not numbers count as 0). */
export function productsTotal(products: JobProduct[], quantities: Quantities): number {
  return products.reduce((sum, p) => sum + p.unitAmount * (quantityOf(quantities[p.serviceId]) ?? 0), 0);
}

export function ProductPicker({
  products,
  currency,
  quantities,
  onChange,
  errors,
  label = 'Price list',
  totalLabel = 'Total',
  note,
}: {
  products: JobProduct[];
  currency: string;
  quantities: Quantities;
  onChange: (q: Quantities) => void;
  errors: Record<string, string>;
  label?: string;
  totalLabel?: string;
  note?: string;
}) {
  const set = (id: string, value: string) => onChange({ ...quantities, [id]: value });
  const step = (id: string, by: number) => set(id, String(Math.min(MAX_QUANTITY, Math.max(0, (quantityOf(quantities[id]) ?? 0) + by))));
  const total = productsTotal(products, quantities);
  return (
    <>
      <div className="table-wrap" role="region" aria-label={label}>
        <table className="product-picker">
          <thead>
            <tr>
              <th scope="col">Product</th>
              <th scope="col" className="num">
                Price each
              </th>
              <th scope="col">Quantity</th>
              <th scope="col" className="num">
                Amount
              </th>
            </tr>
          </thead>
          <tbody>
            {products.map((p) => {
              const n = quantityOf(quantities[p.serviceId]);
              const error = errors[p.serviceId];
              return (
                <tr key={p.serviceId} data-product={p.name}>
                  <th scope="row">{p.name}</th>
                  <td className="num amount">{money(p.unitAmount, currency)}</td>
                  <td>
                    <div className="qty-stepper">
                      <button type="button" className="button-secondary" aria-label={`One fewer: ${p.name}`} disabled={!n} onClick={() => step(p.serviceId, -1)}>
                        −
                      </button>
                      <input
                        inputMode="numeric"
                        autoComplete="off"
                        aria-label={`Quantity: ${p.name}`}
                        value={quantities[p.serviceId] ?? '0'}
                        onChange={(e) => set(p.serviceId, e.target.value)}
                        onFocus={(e) => e.target.select()}
                        aria-invalid={error ? true : undefined}
                        aria-describedby={error ? `qty-error-${p.serviceId}` : undefined}
                      />
                      <button type="button" className="button-secondary" aria-label={`One more: ${p.name}`} disabled={n !== null && n >= MAX_QUANTITY} onClick={() => step(p.serviceId, 1)}>
                        +
                      </button>
                    </div>
                    {error ? (
                      <p className="field-error" id={`qty-error-${p.serviceId}`}>
                        {error}
                      </p>
                    ) : null}
                  </td>
                  <td className="num amount">{n ? money(p.unitAmount * n, currency) : <span className="muted">—</span>}</td>
                </tr>
              );
            })}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row" colSpan={3}>
                {totalLabel}
              </th>
              <td className="num amount" data-testid="products-total">
                <strong>{money(total, currency)}</strong>
              </td>
            </tr>
          </tfoot>
        </table>
      </div>
      {note ? <p className="hint">{note}</p> : null}
    </>
  );
}
