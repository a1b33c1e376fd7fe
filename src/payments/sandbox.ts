// Sandbox card processor. Behaviour is chosen by the payment-method token, as with
// Stripe's test cards. References derive from the idempotency key, so a retry of
// the same call returns the same charge or refund (what a real provider promises).
import { hash } from 'node:crypto';
import type { CardChargeRequest, CardChargeResult, CardRefundRequest, CardRefundResult, PaymentProvider } from './provider.js';

export const SANDBOX_PAYMENT_METHODS = ['pm_card_visa', 'pm_card_declined', 'pm_card_refund_fails'] as const;

function reference(prefix: string, key: string): string {
  return `${prefix}_${hash('sha256', key, 'hex').slice(0, 24)}`;
}

export class SandboxPaymentProvider implements PaymentProvider {
  readonly name = 'sandbox';

  async charge(request: CardChargeRequest): Promise<CardChargeResult> {
    switch (request.paymentMethod) {
      case 'pm_card_visa':
      case 'pm_card_refund_fails':
        return { ok: true, reference: reference('ch_sbx', request.idempotencyKey) };
      case 'pm_card_declined':
        return { ok: false, code: 'card_declined', message: 'Your card was declined.' };
      default:
        return {
          ok: false,
          code: 'invalid_payment_method',
          message: `Unknown payment method '${request.paymentMethod}'. Sandbox methods: ${SANDBOX_PAYMENT_METHODS.join(', ')}.`,
        };
    }
  }

  async refund(request: CardRefundRequest): Promise<CardRefundResult> {
    if (request.paymentMethod === 'pm_card_refund_fails') {
      return { ok: false, reason: 'The card issuer refused the refund (sandbox pm_card_refund_fails).' };
    }
    return { ok: true, reference: reference('re_sbx', request.idempotencyKey) };
  }
}
