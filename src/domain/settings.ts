// Business-wide settings (admin only). Orders snapshot them when created, so later
// changes never rewrite existing orders' terms.
import { Type, type Static } from '@sinclair/typebox';
import { CURRENCY_PATTERN } from './currencies.js';
import { MAX_AMOUNT_MINOR } from './money.js';

const Percent = Type.Number({ minimum: 0, maximum: 100, multipleOf: 0.01 });
const Hours = (max: number) => Type.Integer({ minimum: 0, maximum: max });

export const SettingsSchema = Type.Object(
  {
    timeZone: Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone of the business' }),
    defaultCurrency: Type.String({ pattern: CURRENCY_PATTERN }),
    confirmationWindowHours: Hours(24 * 30),
    sameDayConfirmationWindowHours: Hours(24),
    paymentWindowHours: Hours(24 * 30),
    completionWindowHours: Hours(24 * 30),
    executionConfirmationWindowDays: Type.Integer({ minimum: 0, maximum: 365 }),
    payoutDelayDays: Type.Integer({ minimum: 0, maximum: 365 }),
    allowCustomerEdits: Type.Boolean(),
    allowCustomerCancellation: Type.Boolean(),
    refundOnCustomerCancellation: Type.Boolean(),
    noRefundWithinHours: Hours(24 * 365),
    lateCancellationRefundPercent: Percent,
    refundServiceFeeOnCancellation: Type.Boolean(),
    defaultRefundDestination: Type.Union([Type.Literal('account_credit'), Type.Literal('card')]),
    serviceFee: Type.Object(
      {
        fixed: Type.Integer({ minimum: 0, maximum: MAX_AMOUNT_MINOR, description: 'minor units of the order currency' }),
        percent: Percent,
      },
      { additionalProperties: false },
    ),
    providerCommissionPercent: Percent,
  },
  { additionalProperties: false },
);

export type Settings = Static<typeof SettingsSchema>;

export const SettingsPatchSchema = Type.Partial(SettingsSchema, { additionalProperties: false, minProperties: 1 });
export type SettingsPatch = Static<typeof SettingsPatchSchema>;

export const DEFAULT_SETTINGS: Settings = Object.freeze({
  timeZone: 'UTC',
  defaultCurrency: 'USD',
  confirmationWindowHours: 24,
  sameDayConfirmationWindowHours: 5,
  paymentWindowHours: 12,
  completionWindowHours: 72,
  executionConfirmationWindowDays: 5,
  payoutDelayDays: 14,
  allowCustomerEdits: true,
  allowCustomerCancellation: true,
  refundOnCustomerCancellation: true,
  noRefundWithinHours: 24,
  lateCancellationRefundPercent: 0,
  refundServiceFeeOnCancellation: true,
  defaultRefundDestination: 'account_credit',
  serviceFee: Object.freeze({ fixed: 0, percent: 0 }),
  providerCommissionPercent: 0,
}) as Settings;

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
