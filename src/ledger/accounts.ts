// Ledger accounts. Ids are derived from (kind, owner, currency), so services name an
// account without looking it up. A balance is the sum of the account's postings;
// positive means Settle holds that much for the owner (or, for external accounts,
// negative means money that came in from outside).
export type AccountKind =
  | 'customer_credit' // a customer's account credit ("balance in system")
  | 'provider_payable' // what Settle owes a provider
  | 'platform_fees' // commissions and service fees the business earned
  | 'card_clearing' // money to and from card networks (external)
  | 'refunds_in_transit' // card refunds sent to the provider, outcome not yet known
  | 'adjustments' // counterpart of staff balance corrections
  | 'order_escrow' // money paid for one order, held until it closes or is refunded
  | 'payouts_sent'; // money paid out to providers (external)

interface AccountPolicy {
  owned: boolean;
  allowNegative: boolean;
  /** >1 spreads a hot platform account over several rows to avoid lock queues. */
  shards: number;
}

export const ACCOUNT_POLICIES: Record<AccountKind, AccountPolicy> = {
  customer_credit: { owned: true, allowNegative: false, shards: 1 },
  // A provider may owe money back after a refund of something already paid out.
  provider_payable: { owned: true, allowNegative: true, shards: 4 },
  platform_fees: { owned: false, allowNegative: true, shards: 64 },
  card_clearing: { owned: false, allowNegative: true, shards: 64 },
  refunds_in_transit: { owned: false, allowNegative: true, shards: 64 },
  adjustments: { owned: false, allowNegative: true, shards: 8 },
  order_escrow: { owned: true, allowNegative: false, shards: 1 },
  payouts_sent: { owned: false, allowNegative: true, shards: 8 },
};

export interface AccountRef {
  kind: AccountKind;
  ownerId: string | null;
  currency: string;
}

export function accountId(ref: AccountRef): string {
  return `acct_${ref.kind}_${ref.ownerId ?? 'platform'}_${ref.currency}`;
}

export const customerCredit = (customerId: string, currency: string): AccountRef => ({
  kind: 'customer_credit',
  ownerId: customerId,
  currency,
});
export const providerPayable = (providerId: string, currency: string): AccountRef => ({
  kind: 'provider_payable',
  ownerId: providerId,
  currency,
});
export const orderEscrow = (orderId: string, currency: string): AccountRef => ({
  kind: 'order_escrow',
  ownerId: orderId,
  currency,
});
export const platform = (kind: Exclude<AccountKind, 'customer_credit' | 'provider_payable' | 'order_escrow'>, currency: string): AccountRef => ({
  kind,
  ownerId: null,
  currency,
});
