// Logins take turns on advisory locks (login-throttle.ts), and a login waiting for its turn
// holds a database connection. Unbounded, a burst of logins for one e-mail or from one
// address could hold every connection of the pool and stall every other request (payments
// too). So at most `limit` logins are in their throttle transaction at once per process; the
// rest wait here, holding no connection, in arrival order; past `maxWaiting` waiting, a login
// is refused at once (429, try again in a second). Not per e-mail: a burst for one e-mail
// (each login there a ~1 ms transaction once its turn comes) delays other logins too, never
// other requests.
import { SettleError } from '../../domain/errors.js';

export class LoginGate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly limit: number,
    readonly maxWaiting: number,
  ) {
    if (!(Number.isInteger(limit) && limit >= 1)) throw new Error(`LoginGate: limit must be an integer ≥ 1 (${limit})`);
    if (!(Number.isInteger(maxWaiting) && maxWaiting >= 0)) throw new Error(`LoginGate: maxWaiting must be an integer ≥ 0 (${maxWaiting})`);
  }

  /** Runs `fn` once fewer than `limit` others are running; the slot passes to the next waiting one. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active < this.limit) this.active++;
    else {
      if (this.waiting.length >= this.maxWaiting) throw loginBusy();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }

  /** Logins running and waiting now (for tests). */
  get load(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.length };
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
