// Logins take turns on advisory locks (login-throttle.ts), and a login waiting for its turn
// holds a database connection. Unbounded, a burst of logins for one e-mail or from one
// address could hold every connection of the pool and stall every other request (payments
// too). So in each process:
// - logins for one e-mail, and from one address, take their turns here first, in line, holding
//   no connection (a burst for one e-mail then holds at most one connection, and logins for
//   other e-mails pass it);
// - at most `limit` logins are in their throttle transaction at once; the rest wait, in order;
// - past `maxWaiting` logins waiting anywhere here, a login is refused at once (429, try again
//   in a second).
// The advisory locks still order the logins of different processes.
import { SettleError } from '../../domain/errors.js';

export class LoginGate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  /** Per key, the release of the last login in its line. */
  private readonly lines = new Map<string, Promise<void>>();
  /** Logins in this gate: in a line, waiting for a slot or running. */
  private inGate = 0;

  constructor(
    readonly limit: number,
    readonly maxWaiting: number,
  ) {
    if (!(Number.isInteger(limit) && limit >= 1)) throw new Error(`LoginGate: limit must be an integer ≥ 1 (${limit})`);
    if (!(Number.isInteger(maxWaiting) && maxWaiting >= 0)) throw new Error(`LoginGate: maxWaiting must be an integer ≥ 0 (${maxWaiting})`);
  }

  /**
   * Runs `fn` once it is first in line for each of `keys` (taken in the order given, which
   * must be the same for every login: e-mail, then address) and fewer than `limit` others run.
   */
  async run<T>(keys: readonly string[], fn: () => Promise<T>): Promise<T> {
    if (this.inGate >= this.limit + this.maxWaiting) throw loginBusy();
    this.inGate++;
    const releases: Array<() => void> = [];
    try {
      for (const key of keys) releases.push(await this.turnOf(key));
      return await this.slot(fn);
    } finally {
      for (const release of releases.reverse()) release();
      this.inGate--;
    }
  }

  /** Waits for the login before this one in `key`'s line; gives what lets the next one go. */
  private async turnOf(key: string): Promise<() => void> {
    const before = this.lines.get(key);
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    this.lines.set(key, mine);
    if (before) await before;
    return () => {
      release();
      if (this.lines.get(key) === mine) this.lines.delete(key);
    };
  }

  private async slot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active < this.limit) this.active++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }

  /** Logins running, waiting for a slot, in the gate at all, and keys with a line (for tests). */
  get load(): { active: number; waiting: number; inGate: number; lines: number } {
    return { active: this.active, waiting: this.waiting.length, inGate: this.inGate, lines: this.lines.size };
  }
}

/** Too many logins waiting in this process: try again in a second (the same code as the throttle's 429). */
export function loginBusy(): SettleError {
  return new SettleError(429, 'invalid_request_error', 'too_many_login_attempts', 'Too many logins at once. Try again in a second.', { retryAfter: 1 });
}

/** Half the pool's connections (at least one), so logins never hold more than half. */
export function loginGateFor(connections: number): LoginGate {
  return new LoginGate(Math.max(1, Math.floor(connections / 2)), 1_000);
}
