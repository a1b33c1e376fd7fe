import { describe, expect, it } from 'vitest';
import { SESSION_ABSOLUTE_MS, SESSION_IDLE_MS, slidExpiry } from '../../src/services/auth/sessions.js';

const MIN = 60_000;
const login = new Date('2026-11-28T08:00:00Z');

describe('slidExpiry: a session lasts 12 h after its last use, at most 7 days after login', () => {
  it('a use 5 minutes or more after the last slide moves the expiry to 12 h from now', () => {
    const expiresAt = new Date(login.getTime() + SESSION_IDLE_MS);
    const nowMs = login.getTime() + 5 * MIN;
    expect(slidExpiry({ createdAt: login, expiresAt }, nowMs)).toEqual({ expiresAt: new Date(nowMs + SESSION_IDLE_MS), refreshed: true });
  });

  it('a use less than 5 minutes later writes nothing: the expiry stays', () => {
    const expiresAt = new Date(login.getTime() + SESSION_IDLE_MS);
    const nowMs = login.getTime() + 5 * MIN - 1;
    expect(slidExpiry({ createdAt: login, expiresAt }, nowMs)).toEqual({ expiresAt, refreshed: false });
  });

  it('never past 7 days after login, however busy the session', () => {
    const cap = new Date(login.getTime() + SESSION_ABSOLUTE_MS);
    const nearEnd = login.getTime() + SESSION_ABSOLUTE_MS - 60 * MIN;
    const slid = slidExpiry({ createdAt: login, expiresAt: new Date(nearEnd) }, nearEnd - 10 * MIN);
    expect(slid).toEqual({ expiresAt: cap, refreshed: true });
    expect(slidExpiry({ createdAt: login, expiresAt: cap }, nearEnd)).toEqual({ expiresAt: cap, refreshed: false });
  });
});
