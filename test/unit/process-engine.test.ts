import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../src/domain/settings.js';
import { SettleError } from '../../src/domain/errors.js';
import {
  ACTORS,
  START,
  SAME,
  awaitingParty,
  bookingProcess,
  chooseBranch,
  deadlineFor,
  defineProcess,
  directProcess,
  findTransition,
  isTerminal,
  plus,
  ref,
  requireTransition,
  transitionsFor,
  type ProcessActor,
  type TransitionDef,
} from '../../src/domain/process/index.js';

const at = (iso: string) => new Date(iso);
const names = (ts: readonly { name: string }[]) => ts.map((t) => t.name);

describe('transitionsFor', () => {
  it('lists what each actor may do in a state, in declaration order', () => {
    expect(names(transitionsFor(bookingProcess, 'confirmation', 'customer'))).toEqual(['confirm', 'edit', 'cancel']);
    expect(names(transitionsFor(bookingProcess, 'confirmation', 'system'))).toEqual(['expire_confirmation']);
    expect(names(transitionsFor(bookingProcess, 'execution', 'provider'))).toEqual(['cancel', 'cancel_lines', 'propose', 'mark_done']);
    expect(names(transitionsFor(bookingProcess, 'closed', 'customer'))).toEqual(['review']);
    expect(names(transitionsFor(bookingProcess, 'cancelled', 'customer'))).toEqual([]);
    expect(names(transitionsFor(bookingProcess, START, 'operator'))).toEqual(['create']);
    expect(names(transitionsFor(directProcess, START, 'customer'))).toEqual([]);
    expect(names(transitionsFor(directProcess, 'delivery', 'operator'))).toEqual([
      'mark_line_done',
      'cancel_lines',
      'cancel',
      'refund',
      'refund_to_card',
    ]);
  });
});

describe('findTransition refusals name the reason', () => {
  it('accepts an allowed transition', () => {
    const found = findTransition(bookingProcess, 'execution', 'mark_done', 'provider');
    expect(found.ok && found.transition.to).toBe('execution_confirmation');
  });

  it('refuses an unknown transition and an unknown state', () => {
    expect(findTransition(bookingProcess, 'execution', 'teleport')).toMatchObject({ ok: false, code: 'unknown_transition' });
    expect(findTransition(bookingProcess, 'limbo', 'confirm')).toMatchObject({ ok: false, code: 'unknown_state' });
  });

  it('refuses the wrong actor, listing who may', () => {
    const found = findTransition(bookingProcess, 'execution', 'mark_done', 'customer');
    expect(found).toMatchObject({ ok: false, code: 'actor_not_allowed', allowedActors: ['provider', 'operator'] });
    expect(!found.ok && found.message).toBe('A customer may not mark_done; only provider, operator may.');
  });

  it('refuses the wrong state, listing where it is possible', () => {
    const found = findTransition(bookingProcess, 'confirmation', 'mark_done', 'provider');
    expect(found).toMatchObject({ ok: false, code: 'invalid_state_transition', allowedStates: ['execution'] });
    expect(!found.ok && found.message).toMatch(/Cannot mark_done while the order is in 'confirmation'.*'execution'/);
  });

  it('judges the actor before the state (a customer can never mark done)', () => {
    expect(findTransition(bookingProcess, 'confirmation', 'mark_done', 'customer')).toMatchObject({ code: 'actor_not_allowed' });
  });

  it('keeps system transitions for the system', () => {
    expect(findTransition(bookingProcess, 'confirmation', 'expire_confirmation', 'operator')).toMatchObject({ code: 'actor_not_allowed' });
    expect(findTransition(bookingProcess, 'confirmation', 'expire_confirmation', 'system').ok).toBe(true);
  });

  it('checks only the state when no actor is given', () => {
    expect(findTransition(bookingProcess, 'payment', 'pay').ok).toBe(true);
    expect(findTransition(bookingProcess, 'closed', 'pay')).toMatchObject({ code: 'invalid_state_transition' });
  });

  it('table: every booking and direct transition × actor × from-state is allowed exactly as declared', () => {
    for (const process of [bookingProcess, directProcess]) {
      for (const t of process.transitions as readonly TransitionDef[]) {
        for (const actor of ACTORS) {
          for (const state of t.from) {
            const found = findTransition(process, state, t.name, actor);
            if (t.actors.includes(actor)) expect(found.ok, `${process.name} ${t.name} ${actor} ${state}`).toBe(true);
            else expect(found, `${process.name} ${t.name} ${actor}`).toMatchObject({ ok: false, code: 'actor_not_allowed' });
          }
        }
      }
    }
  });
});

describe('requireTransition throws the API error', () => {
  const refusal = (state: string, name: string, actor: ProcessActor) => {
    try {
      requireTransition(bookingProcess, state, name, actor);
    } catch (err) {
      expect(err).toBeInstanceOf(SettleError);
      const e = err as SettleError;
      return { status: e.status, code: e.code, details: e.details };
    }
    throw new Error('expected a refusal');
  };

  it('maps each refusal to its status', () => {
    expect(refusal('execution', 'teleport', 'customer')).toMatchObject({ status: 400, code: 'unknown_transition' });
    expect(refusal('execution', 'mark_done', 'customer')).toMatchObject({ status: 403, code: 'actor_not_allowed' });
    expect(refusal('cancelled', 'confirm', 'customer')).toMatchObject({
      status: 409,
      code: 'invalid_state_transition',
      details: { process: 'booking', version: bookingProcess.version, state: 'cancelled', transition: 'confirm', actor: 'customer' },
    });
    expect(refusal('limbo', 'confirm', 'customer')).toMatchObject({ status: 500, code: 'unknown_state' });
  });

  it('returns the transition when allowed', () => {
    expect(requireTransition(bookingProcess, 'closed', 'review', 'customer').name).toBe('review');
  });
});

describe('deadlineFor', () => {
  const policies = DEFAULT_SETTINGS;
  const times = {
    createdAt: at('2025-06-01T10:00:00Z'),
    lastEditAt: at('2025-06-01T10:00:00Z'),
    enteredState: at('2025-06-02T10:00:00Z'),
    startsAt: at('2025-06-10T10:00:00Z'),
    endsAt: at('2025-06-10T12:00:00Z'),
  };

  it('gives each booking state its deadline and transition', () => {
    const d = (state: string) => deadlineFor(bookingProcess, state, times, policies);
    expect(d('confirmation')).toEqual({ at: at('2025-06-02T10:00:00Z'), transition: 'expire_confirmation' });
    expect(d('payment')).toEqual({ at: at('2025-06-02T22:00:00Z'), transition: 'expire_payment' });
    expect(d('execution')).toEqual({ at: at('2025-06-13T12:00:00Z'), transition: 'auto_done' });
    expect(d('execution_confirmation')).toEqual({ at: at('2025-06-07T10:00:00Z'), transition: 'auto_close' });
    for (const s of ['claim', 'closed', 'cancelled']) expect(d(s)).toBeNull();
    expect(deadlineFor(directProcess, 'delivery', times, policies)).toBeNull();
  });

  it('is null when the time it needs is missing', () => {
    expect(deadlineFor(bookingProcess, 'execution', { ...times, endsAt: null }, policies)).toBeNull();
  });

  const racing = defineProcess({
    name: 'racing',
    version: 't',
    description: 'two deadlines out of one state',
    states: [
      { name: 'waiting', description: 'w' },
      { name: 'a', terminal: true, description: 'a' },
      { name: 'b', terminal: true, description: 'b' },
    ],
    transitions: [
      { name: 'create', description: '', from: [START], to: 'waiting', actors: ['operator'] },
      { name: 'late', description: '', from: ['waiting'], to: 'a', actors: ['system'], at: plus(ref('createdAt'), { hours: 'paymentWindowHours' }) },
      { name: 'early', description: '', from: ['waiting'], to: 'b', actors: ['system'], at: plus(ref('createdAt'), { hours: 2 }) },
      { name: 'never', description: '', from: ['waiting'], to: 'b', actors: ['system'], at: ref('closedAt') },
    ],
  });

  it('picks the earliest of several system transitions, skipping those that cannot be evaluated', () => {
    const t0 = at('2025-06-01T00:00:00Z');
    expect(deadlineFor(racing, 'waiting', { createdAt: t0 }, policies)).toEqual({ at: at('2025-06-01T02:00:00Z'), transition: 'early' });
    const p = { ...policies, paymentWindowHours: 1 };
    expect(deadlineFor(racing, 'waiting', { createdAt: t0 }, p)?.transition).toBe('late');
  });

  it('breaks a tie by declaration order, so every worker picks the same one', () => {
    const p = { ...policies, paymentWindowHours: 2 };
    expect(deadlineFor(racing, 'waiting', { createdAt: at('2025-06-01T00:00:00Z') }, p)?.transition).toBe('late');
  });
});

describe('awaiting and branches', () => {
  it('derives whom the order awaits from the state', () => {
    expect(awaitingParty(bookingProcess, 'confirmation', 'customer')).toBe('provider');
    expect(awaitingParty(bookingProcess, 'confirmation', 'provider')).toBe('customer');
    expect(awaitingParty(bookingProcess, 'confirmation')).toBeNull();
    expect(awaitingParty(bookingProcess, 'payment')).toBe('customer');
    expect(awaitingParty(bookingProcess, 'execution')).toBe('provider');
    expect(awaitingParty(bookingProcess, 'claim')).toBe('operator');
    expect(awaitingParty(bookingProcess, 'closed')).toBeNull();
  });

  it('knows terminal states', () => {
    expect(isTerminal(bookingProcess, 'closed')).toBe(true);
    expect(isTerminal(bookingProcess, 'execution')).toBe(false);
  });

  it('chooses the first branch whose condition holds, resolving "same state"', () => {
    const cancelLines = bookingProcess.transitions.find((t) => t.name === 'cancel_lines')!;
    expect(chooseBranch(cancelLines, 'execution', (c) => c === 'all_lines_cancelled')).toEqual({
      to: 'cancelled',
      actions: ['settle_escrow', 'schedule_payout'],
    });
    expect(chooseBranch(cancelLines, 'payment', () => false)).toEqual({ to: 'payment', actions: [] });
    const done = directProcess.transitions.find((t) => t.name === 'mark_line_done')!;
    expect(chooseBranch(done, 'delivery', (c) => c === 'no_open_lines').to).toBe('closed');
  });

  it('fails loudly on an unvalidated definition without a default branch', () => {
    const t: TransitionDef = { name: 'x', description: '', from: ['s'], to: [{ when: 'no_open_lines', to: SAME }], actors: ['operator'] };
    expect(() => chooseBranch(t, 's', () => false)).toThrow(/no branch/);
  });
});
