// The login gate (src/services/auth/login-gate.ts): never more than `limit` running, the rest
// in arrival order, a failure frees its slot, and past `maxWaiting` a login is refused (429).
import { describe, expect, it } from 'vitest';
import { LoginGate, loginGateFor } from '../../src/services/auth/login-gate.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('login gate', () => {
  it('runs at most `limit` at once, the others in arrival order, and frees slots on failure', async () => {
    const gate = new LoginGate(2, 100);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        gate.run(async () => {
          started.push(i);
          running++;
          most = Math.max(most, running);
          await tick();
          await tick();
          running--;
          if (i % 3 === 0) throw new Error(`login ${i} failed`);
          return i;
        }),
      ),
    );
    expect(most).toBe(2);
    expect(started).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(4);
    expect(gate.load).toEqual({ active: 0, waiting: 0 });
  });

  it('refuses at once past maxWaiting, with the throttle error', async () => {
    const gate = new LoginGate(1, 2);
    let release!: () => void;
    const held = gate.run(() => new Promise<void>((r) => (release = r)));
    const queued = [gate.run(async () => 'a'), gate.run(async () => 'b')];
    await expect(gate.run(async () => 'c')).rejects.toMatchObject({ status: 429, code: 'too_many_login_attempts', details: { retryAfter: 1 } });
    expect(gate.load).toEqual({ active: 1, waiting: 2 });
    release();
    await held;
    expect(await Promise.all(queued)).toEqual(['a', 'b']);
    expect(gate.load).toEqual({ active: 0, waiting: 0 });
  });

  it('takes half the pool, at least one', () => {
    expect(loginGateFor(1).limit).toBe(1);
    expect(loginGateFor(4).limit).toBe(2);
    expect(loginGateFor(9).limit).toBe(4);
    expect(() => new LoginGate(0, 1)).toThrow();
  });
});
