import { describe, expect, expectTypeOf, it } from 'vitest';
import { runCli } from '../helpers/process.js';
import {
  ACTIONS,
  GUARDS,
  START,
  bookingProcess,
  bookingProcessV1_0,
  directProcess,
  formatTimeExpr,
  getProcess,
  directProcessV1_0,
  bookingProcessV1_1,
  prepayProcess,
  isProcessName,
  processVersions,
  toMermaid,
  validateProcess,
  type StateOf,
  type TransitionDef,
  type TransitionOf,
} from '../../src/domain/process/index.js';

const transition = (process: { transitions: readonly TransitionDef[] }, name: string) => {
  const t = process.transitions.find((x) => x.name === name);
  if (!t) throw new Error(`no transition ${name}`);
  return t;
};

describe('bookingProcess', () => {
  it('is valid and versioned', () => {
    expect(validateProcess(bookingProcess)).toEqual([]);
    expect(validateProcess(bookingProcessV1_0)).toEqual([]);
    expect(bookingProcess.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('has the states of the SPEC', () => {
    expect(bookingProcess.states.map((s) => s.name)).toEqual([
      'confirmation',
      'payment',
      'execution',
      'execution_confirmation',
      'claim',
      'closed',
      'cancelled',
    ]);
    expect(bookingProcess.states.filter((s) => s.terminal).map((s) => s.name)).toEqual(['closed', 'cancelled']);
  });

  it('has every transition the SPEC names, with the right actors', () => {
    const actors = (name: string) => [...transition(bookingProcess, name).actors].sort();
    expect(actors('create')).toEqual(['customer', 'operator', 'provider']);
    expect(actors('confirm')).toEqual(['customer', 'operator', 'provider']);
    expect(actors('edit')).toEqual(['customer', 'operator', 'provider']);
    expect(actors('pay')).toEqual(['customer', 'operator']);
    expect(actors('cancel')).toEqual(['customer', 'operator', 'provider']);
    expect(actors('propose')).toEqual(['operator', 'provider']);
    expect(actors('accept_proposal')).toEqual(['customer', 'operator']);
    expect(actors('decline_proposal')).toEqual(['customer', 'operator']);
    expect(actors('edit_line')).toEqual(['customer', 'operator']);
    expect(actors('mark_done')).toEqual(['operator', 'provider']);
    expect(actors('confirm_execution')).toEqual(['customer', 'operator']);
    expect(actors('open_claim')).toEqual(['customer', 'operator']);
    expect(actors('resolve_claim')).toEqual(['operator']);
    expect(actors('review')).toEqual(['customer', 'operator']);
    for (const name of ['expire_confirmation', 'expire_payment', 'auto_done', 'auto_close']) expect(actors(name)).toEqual(['system']);
  });

  it('puts the SPEC windows on the system transitions', () => {
    const fmt = (name: string) => formatTimeExpr(transition(bookingProcess, name).at!, { ...bookingDefaults });
    expect(fmt('expire_confirmation')).toBe('min(lastEditAt + 24h|5h same day, startsAt)');
    expect(fmt('expire_payment')).toBe('min(enteredState + 12h, startsAt)');
    expect(fmt('auto_done')).toBe('endsAt + 72h');
    expect(fmt('auto_close')).toBe('enteredState + 5d');
    expect(formatTimeExpr(bookingProcess.schedules!.payout!, bookingDefaults)).toBe('closedAt + 14d');
  });

  it('guards the rules of the SPEC', () => {
    expect(transition(bookingProcess, 'cancel').from).toEqual(['confirmation', 'payment', 'execution']);
    expect(transition(bookingProcess, 'cancel').guards).toContain('before_start');
    // 1.1.0: every open line must have started (1.0.0, kept for its orders: the order's first start).
    expect(transition(bookingProcess, 'mark_done').guards).toEqual(['open_lines_started']);
    expect(transition(bookingProcessV1_0, 'mark_done').guards).toEqual(['after_start']);
    expect(getProcess('booking', '1.0.0')).toBe(bookingProcessV1_0);
    expect(getProcess('booking')).toBe(bookingProcess);
    expect(transition(bookingProcess, 'propose').guards).toEqual(['before_start', 'price_not_increased']);
    expect(transition(bookingProcess, 'edit_line').guards).toContain('customer_may_edit');
    expect(transition(bookingProcess, 'review').guards).toEqual(['not_reviewed']);
    expect(transition(bookingProcess, 'confirm').guards).toEqual(['actor_is_awaited']);
    expect(transition(bookingProcess, 'expire_confirmation').reasonCode).toBe('confirmation_expired');
    expect(transition(bookingProcess, 'expire_payment').reasonCode).toBe('payment_expired');
  });

  it('settles money and schedules the payout on every way into closed', () => {
    for (const t of bookingProcess.transitions) {
      if (t.to !== 'closed') continue;
      expect(t.actions?.slice(-2), t.name).toEqual(['settle_escrow', 'schedule_payout']);
    }
  });

  it('types its state and transition names', () => {
    expectTypeOf<StateOf<typeof bookingProcess>>().toEqualTypeOf<
      'confirmation' | 'payment' | 'execution' | 'execution_confirmation' | 'claim' | 'closed' | 'cancelled'
    >();
    expectTypeOf<'mark_done'>().toExtend<TransitionOf<typeof bookingProcess>>();
  });
});

const bookingDefaults = {
  timeZone: 'UTC',
  confirmationWindowHours: 24,
  sameDayConfirmationWindowHours: 5,
  paymentWindowHours: 12,
  completionWindowHours: 72,
  noRefundWithinHours: 24,
  executionConfirmationWindowDays: 5,
  payoutDelayDays: 14,
};

describe('directProcess', () => {
  it('is valid and versioned', () => {
    expect(validateProcess(directProcess)).toEqual([]);
    expect(directProcess.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('is created by staff, delivered line by line, ends closed or cancelled', () => {
    expect(transition(directProcess, 'create')).toMatchObject({ from: [START], actors: ['operator'] });
    expect(transition(directProcess, 'mark_line_done').to).toEqual([
      { when: 'no_open_lines', to: 'closed', actions: ['settle_escrow', 'schedule_payout'] },
      { to: '@same' },
    ]);
    const cancelTargets = (name: string) => (transition(directProcess, name).to as { when?: string; to: string }[]).map((b) => `${b.when ?? '*'}→${b.to}`);
    expect(cancelTargets('cancel_lines')).toEqual(['all_lines_cancelled→cancelled', 'no_open_lines→closed', '*→@same']);
    expect(cancelTargets('cancel')).toEqual(['all_lines_cancelled→cancelled', '*→closed']);
    expect(directProcess.transitions.every((t) => !t.actors.includes('system'))).toBe(true);
  });
});

describe('vocabulary', () => {
  it('documents every guard and action the processes use', () => {
    for (const p of [bookingProcess, directProcess]) {
      for (const t of p.transitions as readonly TransitionDef[]) {
        for (const g of t.guards ?? []) expect(GUARDS[g].length).toBeGreaterThan(10);
        for (const a of t.actions ?? []) expect(ACTIONS[a].length).toBeGreaterThan(10);
      }
    }
  });
});

describe('registry', () => {
  it('finds processes by name and version', () => {
    expect(getProcess('booking')).toBe(bookingProcess);
    expect(getProcess('direct', directProcess.version)).toBe(directProcess);
    expect(getProcess('booking', '0.0.0-never')).toBeUndefined();
    expect(getProcess('toString')).toBeUndefined();
    expect(isProcessName('direct')).toBe(true);
    expect(isProcessName('constructor')).toBe(false);
  });

  it('lists every version an order may run, oldest first', () => {
    expect(processVersions('booking')).toEqual(['1.0.0', '1.1.0', '1.2.0']);
    expect(processVersions('direct')).toEqual(['1.0.0', '1.1.0']);
    expect(processVersions('nope')).toEqual([]);
  });

  it('from booking 1.2.0 and direct 1.1.0 staff refund an ended order from its payout; earlier versions keep refunds to held money', () => {
    const refundEdges = (p: Parameters<typeof toMermaid>[0]) => toMermaid(p).split('\n').filter((l) => / : refund \[/.test(l));
    expect(refundEdges(bookingProcess)).toEqual([
      '  execution --> execution : refund [operator]',
      '  execution_confirmation --> execution_confirmation : refund [operator]',
      '  claim --> claim : refund [operator]',
      '  closed --> closed : refund [operator]',
      '  cancelled --> cancelled : refund [operator]',
    ]);
    expect(refundEdges(bookingProcessV1_1)).toEqual([
      '  execution --> execution : refund [operator]',
      '  execution_confirmation --> execution_confirmation : refund [operator]',
      '  claim --> claim : refund [operator]',
    ]);
    expect(refundEdges(directProcess)).toEqual(['  delivery --> delivery : refund [operator]', '  closed --> closed : refund [operator]', '  cancelled --> cancelled : refund [operator]']);
    expect(refundEdges(directProcessV1_0)).toEqual(['  delivery --> delivery : refund [operator]']);
  });

  it('`settle process diagram` draws the current version or the one asked for', async () => {
    const current = await runCli(['process', 'diagram', 'booking'], {});
    expect(current).toMatchObject({ code: 0, stdout: `${toMermaid(bookingProcess)}\n` });
    const old = await runCli(['process', 'diagram', 'booking@1.0.0'], {});
    expect(old).toMatchObject({ code: 0, stdout: `${toMermaid(bookingProcessV1_0)}\n` });
    expect(old.stdout).toContain('version 1.0.0');
    const missing = await runCli(['process', 'diagram', 'booking@9.9.9'], {});
    expect(missing).toMatchObject({ code: 2, stdout: '' });
    expect(missing.stderr).toContain('no version 9.9.9 of booking; there are: 1.0.0, 1.1.0, 1.2.0');
  }, 30_000);
});

describe('toMermaid', () => {
  const diagram = toMermaid(bookingProcess);
  const lines = diagram.trimEnd().split('\n');

  it('is a stateDiagram-v2 with every state and transition', () => {
    expect(lines[0]).toBe('stateDiagram-v2');
    for (const s of bookingProcess.states) expect(diagram).toContain(`  ${s.name} : `);
    for (const t of bookingProcess.transitions) expect(diagram).toMatch(new RegExp(` : ${t.name} \\[`));
    // Every non-comment line after the header is a description or an edge.
    for (const line of lines.slice(1)) expect(line).toMatch(/^ {2}(%% .*|[a-z_]+ : [^;#<>]+|(\[\*\]|[a-z_]+) --> (\[\*\]|[a-z_]+)( : [^;#<>]+)?)$/);
  });

  it('labels edges with the name, actors, branch and deadline', () => {
    expect(lines).toContain('  [*] --> confirmation : create [customer, provider, operator]');
    expect(lines).toContain(
      '  confirmation --> cancelled : expire_confirmation [system] at min(lastEditAt + 24h|5h same day, startsAt)',
    );
    expect(lines).toContain('  payment --> cancelled : expire_payment [system] at min(enteredState + 12h, startsAt)');
    expect(lines).toContain('  execution --> execution_confirmation : auto_done [system] at endsAt + 72h');
    expect(lines).toContain('  execution_confirmation --> closed : auto_close [system] at enteredState + 5d');
    expect(lines).toContain('  execution --> cancelled : cancel_lines [customer, provider, operator] when all_lines_cancelled');
    expect(lines).toContain('  execution --> execution : cancel_lines [customer, provider, operator] otherwise');
    expect(lines).toContain('  closed --> closed : review [customer, operator]');
    expect(lines).toContain('  closed --> [*]');
    expect(lines).toContain('  cancelled --> [*]');
  });

  it('shows a business’s own windows, policy names, guards on request', () => {
    expect(toMermaid(bookingProcess, { policies: { ...bookingDefaults, paymentWindowHours: 6 } })).toContain(
      'at min(enteredState + 6h, startsAt)',
    );
    expect(toMermaid(bookingProcess, { policies: null })).toContain('at min(enteredState + paymentWindowHours, startsAt)');
    expect(toMermaid(bookingProcess, { guards: true })).toContain(
      '  execution --> execution_confirmation : mark_done [provider, operator] if open_lines_started',
    );
    expect(toMermaid(directProcess, { descriptions: false })).not.toMatch(/^ {2}delivery : /m);
  });
});

describe('the prepay process (seed 002)', () => {
  it('is valid, reaches every state, and ends only in closed or cancelled', () => {
    expect(validateProcess(prepayProcess)).toEqual([]);
    const reached = new Set<string>();
    for (const t of prepayProcess.transitions) for (const b of typeof t.to === 'string' ? [{ to: t.to }] : t.to) reached.add(b.to);
    for (const s of prepayProcess.states) expect(reached.has(s.name), s.name).toBe(true);
    expect(prepayProcess.states.filter((s) => s.terminal).map((s) => s.name)).toEqual(['closed', 'cancelled']);
  });

  it('has production released by staff or by the job batch schedule, and no deadline while an order waits at the business', () => {
    expect(transition(prepayProcess, 'auto_release')).toMatchObject({ actors: ['system'], scheduledBy: 'job_batch_release', from: ['batch'], to: 'production' });
    for (const state of ['collection', 'revision', 'batch'] as const) {
      expect(prepayProcess.transitions.filter((t) => t.from.includes(state) && t.at)).toEqual([]);
    }
    expect(toMermaid(prepayProcess)).toContain('  batch --> production : auto_release [system] at job batch release');
  });

  it('`settle process diagram prepay` draws it', async () => {
    expect(await runCli(['process', 'diagram', 'prepay'], {})).toMatchObject({ code: 0, stdout: `${toMermaid(prepayProcess)}\n` });
  }, 30_000);
});
