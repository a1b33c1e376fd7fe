// Decoding settle_refuse (migration 008): a statement that must undo itself when refused
// raises `settle_refused:<code>` (SQLSTATE P0001); the caller turns the code back into
// the refusal it stands for.

/** The code of a refusal raised by settle_refuse (migration 008), or null for any other error. */
export function refusedCode(err: unknown): string | null {
  const e = err as { code?: string; message?: string };
  if (e?.code !== 'P0001' || typeof e.message !== 'string') return null;
  const at = e.message.indexOf('settle_refused:');
  return at === -1 ? null : e.message.slice(at + 'settle_refused:'.length).trim();
}
