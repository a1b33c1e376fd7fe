import { describe, expect, it } from 'vitest';
import {
  InvalidProcessError,
  SAME,
  START,
  assertValidProcess,
  defineProcess,
  plus,
  ref,
  validateProcess,
  type ProcessDefinition,
  type TransitionDef,
} from '../../src/domain/process/index.js';

// A small sound process; each test breaks one thing in a copy (typed loosely, as a
// definition read from JSON would be).
function base(): { -readonly [K in keyof ProcessDefinition]: any } {
  return {
    name: 'mini',
    version: '1',
    description: 'test',
    states: [
      { name: 'open', description: 'open' },
      { name: 'done', terminal: true, description: 'done' },
    ],
    transitions: [
      { name: 'create', description: '', from: [START], to: 'open', actors: ['operator'] },
      { name: 'finish', description: '', from: ['open'], to: 'done', actors: ['provider'], guards: ['after_start'], actions: ['settle_escrow'] },
      { name: 'expire', description: '', from: ['open'], to: 'done', actors: ['system'], at: plus(ref('createdAt'), { hours: 1 }) },
    ],
  };
}
const codes = (p: unknown) => validateProcess(p as ProcessDefinition).map((i) => i.code);
const withTransition = (t: Partial<TransitionDef> & { name: string }) => {
  const p = base();
  p.transitions = [...p.transitions, { description: '', from: ['open'], to: 'done', actors: ['operator'], ...t }];
  return p;
};

describe('validateProcess', () => {
  it('accepts a sound definition', () => {
    expect(validateProcess(base())).toEqual([]);
  });

  it('catches unknown states in from and to', () => {
    expect(codes(withTransition({ name: 'x', from: ['limbo'] }))).toContain('unknown_state');
    expect(codes(withTransition({ name: 'x', to: 'limbo' }))).toContain('unknown_state');
    expect(codes(withTransition({ name: 'x', to: [{ when: 'no_open_lines', to: 'limbo' }, { to: 'done' }] }))).toContain('unknown_state');
  });

  it('catches unreachable states and non-terminal dead ends', () => {
    const p = base();
    p.states = [...p.states, { name: 'island', description: '' }];
    expect(codes(p)).toEqual(['unreachable_state', 'dead_end_state']);
  });

  it('catches duplicate state and transition names', () => {
    const p = base();
    p.states = [...p.states, { name: 'open', description: 'again' }];
    expect(codes(p)).toContain('duplicate_state');
    expect(codes(withTransition({ name: 'finish' }))).toEqual(['duplicate_transition']);
  });

  it('requires `at` on system transitions and only there', () => {
    expect(codes(withTransition({ name: 'x', actors: ['system'] }))).toEqual(['system_without_at']);
    expect(codes(withTransition({ name: 'x', at: ref('startsAt') }))).toEqual(['at_without_system']);
    expect(codes(withTransition({ name: 'x', actors: ['system', 'operator'], at: ref('startsAt') }))).toEqual(['mixed_system_actor']);
  });

  it('lets a schedule outside the order fire a system transition instead of `at`, only a known one, and never both', () => {
    expect(codes(withTransition({ name: 'x', actors: ['system'], scheduledBy: 'job_batch_release' }))).toEqual([]);
    expect(codes(withTransition({ name: 'x', actors: ['system'], scheduledBy: 'job_batch_release', at: ref('startsAt') }))).toEqual(['at_and_scheduled_by']);
    expect(codes(withTransition({ name: 'x', scheduledBy: 'job_batch_release' }))).toEqual(['scheduled_by_without_system']);
    expect(codes(withTransition({ name: 'x', actors: ['system'], scheduledBy: 'full_moon' as never }))).toEqual(['unknown_schedule']);
  });

  it('catches names outside the vocabulary', () => {
    expect(codes(withTransition({ name: 'x', actors: ['robot' as never] }))).toEqual(['unknown_actor']);
    expect(codes(withTransition({ name: 'x', guards: ['is_friday' as never] }))).toEqual(['unknown_guard']);
    expect(codes(withTransition({ name: 'x', actions: ['launch' as never] }))).toEqual(['unknown_action']);
    expect(codes(withTransition({ name: 'x', to: [{ when: 'raining' as never, to: 'done' }, { to: 'done' }] }))).toEqual([
      'unknown_condition',
    ]);
    expect(codes(withTransition({ name: 'x', to: [{ to: 'done', actions: ['launch' as never] }] }))).toEqual(['unknown_action']);
    expect(codes(withTransition({ name: 'x', actors: [] }))).toEqual(['no_actors']);
    expect(codes(withTransition({ name: 'x', actors: ['operator', 'operator'] }))).toEqual(['duplicate_actor']);
  });

  it('checks branches: a default last, none before it', () => {
    expect(codes(withTransition({ name: 'x', to: [{ when: 'no_open_lines', to: 'done' }] }))).toEqual(['no_default_branch']);
    expect(codes(withTransition({ name: 'x', to: [{ to: 'done' }, { when: 'no_open_lines', to: 'open' }] }))).toEqual([
      'unreachable_branch',
      'no_default_branch',
    ]);
    expect(codes(withTransition({ name: 'x', to: [] }))).toEqual(['no_target']);
  });

  it('checks time expressions', () => {
    const sys = (at: unknown) => withTransition({ name: 'x', actors: ['system'], at: at as never });
    expect(codes(sys({ ref: 'lunchtime' }))).toEqual(['invalid_time_expression']);
    expect(codes(sys({ plus: [ref('createdAt'), { hours: 'payoutDelayDays' }] }))).toEqual(['invalid_time_expression']);
    expect(codes(sys({ plus: [ref('createdAt'), { days: 'nope' }] }))).toEqual(['invalid_time_expression']);
    expect(codes(sys({ plus: [ref('createdAt'), { hours: 1, days: 1 }] }))).toEqual(['invalid_time_expression']);
    expect(codes(sys({ min: [] }))).toEqual(['invalid_time_expression']);
    expect(codes(sys({ ifSameDay: [ref('createdAt')], then: ref('createdAt'), else: ref('createdAt') }))).toEqual([
      'invalid_time_expression',
    ]);
    expect(codes(sys({ max: [ref('createdAt')] }))).toEqual(['invalid_time_expression']);
    const p = base();
    p.schedules = { payout: { ref: 'whenever' } };
    expect(codes(p)).toEqual(['invalid_time_expression']);
  });

  it('keeps terminal states terminal (self-loops allowed)', () => {
    expect(codes(withTransition({ name: 'reopen', from: ['done'], to: 'open' }))).toEqual(['leaves_terminal_state']);
    expect(codes(withTransition({ name: 'expire_done', from: ['done'], to: SAME, actors: ['system'], at: ref('closedAt') }))).toEqual([
      'deadline_in_terminal_state',
    ]);
    expect(codes(withTransition({ name: 'review', from: ['done'], to: SAME }))).toEqual([]);
  });

  it('needs a creation transition, not by the system, not "staying" before the start', () => {
    const p = base();
    p.transitions = p.transitions.filter((t: TransitionDef) => t.name !== 'create');
    expect(codes(p)).toEqual(expect.arrayContaining(['no_creation', 'unreachable_state']));
    expect(codes(withTransition({ name: 'x', from: [START], actors: ['system'], at: ref('createdAt') }))).toEqual(['system_creation']);
    expect(codes(withTransition({ name: 'x', from: [START], to: SAME }))).toEqual(['same_from_start']);
    expect(codes(withTransition({ name: 'x', from: [] }))).toEqual(['no_from_state']);
  });

  it('needs a name and a version, and reserves the start pseudo-state', () => {
    expect(codes({ ...base(), name: '', version: '' })).toEqual(['no_name', 'no_version']);
    const p = base();
    p.states = [...p.states, { name: START, description: '' }];
    expect(codes(p)).toContain('reserved_state');
  });
});

describe('assertValidProcess and defineProcess', () => {
  it('throw with every issue listed', () => {
    const p = withTransition({ name: 'finish', actors: ['system'] });
    try {
      assertValidProcess(p);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidProcessError);
      expect((err as InvalidProcessError).issues.map((i) => i.code)).toEqual(['duplicate_transition', 'system_without_at']);
      expect((err as Error).message).toMatch(/process 'mini' is invalid:\n {2}- \[duplicate_transition\]/);
    }
  });

  it('freezes the definition so a running process cannot be changed by accident', () => {
    const p = defineProcess(base());
    expect(Object.isFrozen(p.transitions[0])).toBe(true);
    expect(() => (p.states as unknown as { name: string }[]).push({ name: 'x' })).toThrow(TypeError);
  });

  it('checks state names at compile time too', () => {
    expect(() =>
      defineProcess({
        name: 'typed',
        version: '1',
        description: '',
        states: [{ name: 'open', terminal: true, description: '' }],
        // @ts-expect-error 'nowhere' is not one of the declared states
        transitions: [{ name: 'create', description: '', from: [START], to: 'nowhere', actors: ['operator'] }],
      }),
    ).toThrow(InvalidProcessError);
  });
});
