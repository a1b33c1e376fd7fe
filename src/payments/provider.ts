// The payment-provider boundary. Services talk only to this interface; the sandbox
// implements it now and a Stripe adapter can later, without touching services.
// Every call carries an idempotency key, so a retried call never moves money twice.

export interface CardChargeRequest {
  paymentMethod: string;
  amountMinor: number;
  currency: string;
  idempotencyKey: string;
  description?: string;
}

export type CardChargeResult =
  | { ok: true; reference: string }
  | { ok: false; code: 'card_declined' | 'invalid_payment_method' | 'processing_error'; message: string };

export interface CardRefundRequest {
  chargeReference: string;
  paymentMethod: string;
  amountMinor: number;
  currency: string;
  idempotencyKey: string;
}

export type CardRefundResult = { ok: true; reference: string } | { ok: false; reason: string };

export interface PaymentProvider {
  readonly name: string;
  charge(request: CardChargeRequest): Promise<CardChargeResult>;
  refund(request: CardRefundRequest): Promise<CardRefundResult>;
}
