// The settings form's fields, grouped as the seeds talk about them, and its checks.
import type { Dispatch, SetStateAction } from 'react';
import { minorToDecimal, parseMoney } from '../../lib/format';
import type { Settings } from '../../lib/types';
import { Checkbox, MoneyField, SelectField, TextField } from '../../components/forms';

const INTS = [
  ['confirmationWindowHours', 'Hours to confirm or edit an order', 720],
  ['sameDayConfirmationWindowHours', 'Hours to confirm when the service is the same day', 24],
  ['paymentWindowHours', 'Hours to pay after confirmation', 720],
  ['completionWindowHours', 'Hours after the end before an order is done automatically', 720],
  ['executionConfirmationWindowDays', 'Days for the customer to confirm execution or claim', 365],
  ['payoutDelayDays', 'Days from close to the provider payout', 365],
  ['noRefundWithinHours', 'X: no refund within this many hours of the start', 8760],
] as const;
const PERCENTS = [
  ['lateCancellationRefundPercent', 'Refund within X hours (percent of the line)'],
  ['providerCommissionPercent', 'Provider commission (percent)'],
  ['serviceFeePercent', 'Service fee (percent)'],
] as const;
const BOOLS = ['allowCustomerEdits', 'allowCustomerCancellation', 'refundOnCustomerCancellation', 'refundServiceFeeOnCancellation'] as const;

export type SettingsForm = Record<(typeof INTS)[number][0] | (typeof PERCENTS)[number][0] | 'timeZone' | 'defaultCurrency' | 'defaultRefundDestination' | 'serviceFeeFixed', string> &
  Record<(typeof BOOLS)[number], boolean>;

export function settingsToForm(s: Settings): SettingsForm {
  return {
    timeZone: s.timeZone,
    defaultCurrency: s.defaultCurrency,
    defaultRefundDestination: s.defaultRefundDestination,
    serviceFeeFixed: minorToDecimal(s.serviceFee.fixed, s.defaultCurrency),
    serviceFeePercent: String(s.serviceFee.percent),
    ...(Object.fromEntries(INTS.map(([k]) => [k, String(s[k])])) as Record<(typeof INTS)[number][0], string>),
    lateCancellationRefundPercent: String(s.lateCancellationRefundPercent),
    providerCommissionPercent: String(s.providerCommissionPercent),
    allowCustomerEdits: s.allowCustomerEdits,
    allowCustomerCancellation: s.allowCustomerCancellation,
    refundOnCustomerCancellation: s.refundOnCustomerCancellation,
    refundServiceFeeOnCancellation: s.refundServiceFeeOnCancellation,
  };
}

function validZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The changed settings, or what is wrong with the form. */
export function formToSettings(f: SettingsForm, before: Settings): { patch: Partial<Settings>; errors: Partial<Record<keyof SettingsForm, string>> } {
  const errors: Partial<Record<keyof SettingsForm, string>> = {};
  const next: Record<string, unknown> = {};
  if (!validZone(f.timeZone.trim())) errors.timeZone = 'Use an IANA time zone such as Europe/Berlin or America/New_York.';
  else next.timeZone = f.timeZone.trim();
  if (!/^[A-Z]{3}$/.test(f.defaultCurrency.trim())) errors.defaultCurrency = 'Use a three-letter ISO 4217 code such as USD.';
  else next.defaultCurrency = f.defaultCurrency.trim();
  for (const [k, , max] of INTS) {
    const v = f[k].trim();
    if (!/^\d+$/.test(v) || Number(v) > max) errors[k] = `Enter a whole number from 0 to ${max}.`;
    else next[k] = Number(v);
  }
  const percents: Record<string, number> = {};
  for (const [k] of PERCENTS) {
    const v = f[k].trim();
    if (!/^\d+(\.\d{1,2})?$/.test(v) || Number(v) > 100) errors[k] = 'Enter a percentage from 0 to 100 (at most 2 decimals).';
    else percents[k] = Number(v);
  }
  const fixed = parseMoney(f.serviceFeeFixed, before.defaultCurrency, { allowZero: true });
  if (!fixed.ok) errors.serviceFeeFixed = fixed.error;
  for (const k of BOOLS) next[k] = f[k];
  next.defaultRefundDestination = f.defaultRefundDestination;
  next.lateCancellationRefundPercent = percents.lateCancellationRefundPercent;
  next.providerCommissionPercent = percents.providerCommissionPercent;
  next.serviceFee = { fixed: fixed.ok ? fixed.minor : 0, percent: percents.serviceFeePercent };
  const patch: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(next)) {
    if (JSON.stringify(v) !== JSON.stringify((before as unknown as Record<string, unknown>)[k])) patch[k] = v;
  }
  return { patch: patch as Partial<Settings>, errors };
}

export function SettingsFields({
  form,
  setForm,
  errors,
  clearError,
}: {
  form: SettingsForm;
  setForm: Dispatch<SetStateAction<SettingsForm>>;
  errors: Partial<Record<keyof SettingsForm, string>>;
  clearError: (k: keyof SettingsForm) => void;
}) {
  const text = (k: keyof SettingsForm) => (v: string) => {
    setForm((f) => ({ ...f, [k]: v }));
    clearError(k);
  };
  const bool = (k: (typeof BOOLS)[number]) => (v: boolean) => setForm((f) => ({ ...f, [k]: v }));
  const int = (k: (typeof INTS)[number][0], label: string) => (
    <TextField key={k} label={label} inputMode="numeric" value={form[k]} onChange={text(k)} error={errors[k] ?? null} />
  );
  const label = (k: string) => INTS.find((x) => x[0] === k)?.[1] ?? PERCENTS.find((x) => x[0] === k)?.[1] ?? k;
  return (
    <>
      <fieldset>
        <legend>Sessions and cancellations (customers)</legend>
        <Checkbox label="Allow customers to modify sessions" checked={form.allowCustomerEdits} onChange={bool('allowCustomerEdits')} hint="Customers may move a session to another slot with free seats, or change the participant." />
        <Checkbox label="Allow customers to cancel" checked={form.allowCustomerCancellation} onChange={bool('allowCustomerCancellation')} />
        <Checkbox
          label="Refund upon cancellation, but no refund within X hours"
          checked={form.refundOnCustomerCancellation}
          onChange={bool('refundOnCustomerCancellation')}
          hint="Customers can cancel up to the session time; the refund depends on how long before the start they cancel."
        />
        {int('noRefundWithinHours', label('noRefundWithinHours'))}
        <TextField label={label('lateCancellationRefundPercent')} inputMode="decimal" value={form.lateCancellationRefundPercent} onChange={text('lateCancellationRefundPercent')} error={errors.lateCancellationRefundPercent ?? null} />
        <Checkbox label="Refund the service fee with a full refund" checked={form.refundServiceFeeOnCancellation} onChange={bool('refundServiceFeeOnCancellation')} />
        <SelectField
          label="Refunds go to"
          value={form.defaultRefundDestination}
          onChange={text('defaultRefundDestination')}
          options={[
            { value: 'account_credit', label: "The customer's account credit" },
            { value: 'card', label: 'The card (what it paid; the rest to account credit)' },
          ]}
        />
      </fieldset>
      <fieldset>
        <legend>Deadlines</legend>
        {INTS.filter(([k]) => k !== 'noRefundWithinHours').map(([k, l]) => int(k, l))}
      </fieldset>
      <fieldset>
        <legend>Business</legend>
        <TextField label="Time zone" value={form.timeZone} onChange={text('timeZone')} error={errors.timeZone ?? null} hint="IANA name; times on every page are shown in it." />
        <TextField label="Default currency" value={form.defaultCurrency} onChange={text('defaultCurrency')} error={errors.defaultCurrency ?? null} maxLength={3} />
        <MoneyField label="Service fee (fixed)" currency={form.defaultCurrency || 'USD'} value={form.serviceFeeFixed} onChange={text('serviceFeeFixed')} error={errors.serviceFeeFixed ?? null} />
        <TextField label={label('serviceFeePercent')} inputMode="decimal" value={form.serviceFeePercent} onChange={text('serviceFeePercent')} error={errors.serviceFeePercent ?? null} />
        <TextField label={label('providerCommissionPercent')} inputMode="decimal" value={form.providerCommissionPercent} onChange={text('providerCommissionPercent')} error={errors.providerCommissionPercent ?? null} />
      </fieldset>
    </>
  );
}
