// The login gate (src/services/auth/login-gate.ts): one login at a time per e-mail and per
// address, never more than `limit` running, the rest in arrival order, a failure frees its
// turn and slot, and past `maxWaiting` a login is refused (429, retry after a second).
import { describe, expect, it } from 'vitest';
import { LoginGate, loginGateFor } from '../../src/services/auth/login-gate.js';

const tick = () => new Promise((r) => setImmediate(r));
const idle = { active: 0, waiting: 0, inGate: 0, lines: 0 };

describe('login gate', () => {
  it('runs at most `limit` at once, the others in arrival order, and frees slots on failure', async () => {
    const gate = new LoginGate(2, 100);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        gate.run([`email:${i}`], async () => {
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
    expect(gate.load).toEqual(idle);
  });

  it('lets one login per key in at a time, in line, and others pass the line', async () => {
    const gate = new LoginGate(3, 100);
    const inside = new Map<string, number>();
    let mostPerKey = 0;
    let mostAll = 0;
    let all = 0;
    const order: string[] = [];
    const login = (email: string, ip: string, tag: string) =>
      gate.run([`email:${email}`, `ip:${ip}`], async () => {
        order.push(tag);
        for (const k of [email, ip]) inside.set(k, (inside.get(k) ?? 0) + 1);
        mostPerKey = Math.max(mostPerKey, ...inside.values());
        mostAll = Math.max(mostAll, ++all);
        await tick();
        await tick();
        for (const k of [email, ip]) inside.set(k, (inside.get(k) ?? 0) - 1);
        all--;
      });
    await Promise.all([
      login('a', '1', 'a1'),
      login('a', '2', 'a2'), // behind a1 (same e-mail)
      login('b', '1', 'b1'), // behind a1 (same address)
      login('c', '3', 'c3'), // passes both lines
      login('a', '3', 'a3'), // behind a2, then c3's address
    ]);
    expect(mostPerKey).toBe(1);
    expect(mostAll).toBeGreaterThanOrEqual(2); // different e-mails and addresses run side by side
    expect(mostAll).toBeLessThanOrEqual(3);
    expect(order.indexOf('c3')).toBeLessThan(order.indexOf('a2'));
    expect(order.indexOf('a1')).toBeLessThan(order.indexOf('a2'));
    expect(order.indexOf('a2')).toBeLessThan(order.indexOf('a3'));
    expect(order.indexOf('a1')).toBeLessThan(order.indexOf('b1'));
    expect(gate.load).toEqual(idle);
  });

  it('refuses at once past maxWaiting, with the retry a second later', async () => {
    const gate = new LoginGate(1, 2);
    let release!: () => void;
    const held = gate.run(['email:x'], () => new Promise<void>((r) => (release = r)));
    const queued = [gate.run(['email:y'], async () => 'a'), gate.run(['email:x'], async () => 'b')];
    await expect(gate.run(['email:z'], async () => 'c')).rejects.toMatchObject({ status: 429, code: 'too_many_login_attempts', details: { retryAfter: 1 } });
    expect(gate.load).toEqual({ active: 1, waiting: 1, inGate: 3, lines: 2 });
    release();
    await held;
    expect(await Promise.all(queued)).toEqual(['a', 'b']);
    expect(gate.load).toEqual(idle);
  });

  it('takes half the pool, at least one', () => {
    expect(loginGateFor(1).limit).toBe(1);
    expect(loginGateFor(4).limit).toBe(2);
    expect(loginGateFor(9).limit).toBe(4);
    expect(() => new LoginGate(0, 1)).toThrow();
  });
});
