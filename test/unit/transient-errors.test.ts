// Which database errors leave a deadline for a later sweep (src/store/db.ts isTransientDbError)
// and which drop it as a failure of the work itself.
import { describe, expect, it } from 'vitest';
import { isTransientDbError } from '../../src/store/db.js';
import { SettleError } from '../../src/domain/errors.js';

const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code });

describe('isTransientDbError', () => {
  it('busy, unreachable, cancelled or shutting down: transient', () => {
    for (const code of ['40001', '40P01', '08006', '08001', '53300', '57P01', '55P03', 'ECONNRESET', 'ECONNREFUSED']) {
      expect(isTransientDbError(pgError(code)), code).toBe(true);
    }
    expect(isTransientDbError(new Error('Connection terminated unexpectedly'))).toBe(true);
  });

  it('a refused rule, bad data, a bug or a statement timeout: not transient', () => {
    for (const code of ['23505', '23514', '22P02', '42P01', '42703', '57014']) expect(isTransientDbError(pgError(code)), code).toBe(false);
    expect(isTransientDbError(new SettleError(409, 'conflict_error', 'deadline_passed', 'x'))).toBe(false);
    expect(isTransientDbError(new Error('order ord_1 runs unknown process booking@0'))).toBe(false);
    expect(isTransientDbError(null)).toBe(false);
    expect(isTransientDbError('text')).toBe(false);
  });
});
