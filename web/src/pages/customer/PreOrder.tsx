// The parent's pre-order (seed 002): the access code from the student's QR card shows the
// job and the student; then the products, and the order is created to be paid on its
// receipt page. A link on the card may carry the code (/portal/pre-order?code=…).
import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError } from '../../lib/api';
import { navigate, useLocation } from '../../lib/router';
import { useSession, useTimeZone } from '../../lib/session';
import { dateOnly } from '../../lib/format';
import type { AccessCodeLookup, JobOrder } from '../../lib/types';
import { ErrorNote, useAction } from '../../components/Feedback';
import { Submit, TextField } from '../../components/forms';
import { DefinitionList, Page, Section } from '../../components/ui';
import { emptyLine, LinesEditor, parseLines, type LineErrors, type LineRow } from '../order/LinesEditor';

export function PreOrderPage() {
  const { query } = useLocation();
  const [code, setCode] = useState(query.get('code') ?? '');
  const [codeError, setCodeError] = useState<string | null>(null);
  const [found, setFound] = useState<AccessCodeLookup | null>(null);
  const lookup = useAction();
  const { run } = lookup;
  const find = async (text: string) => {
    const c = text.trim();
    if (c.replace(/[\s-]/g, '').length < 4) return setCodeError('Enter the access code printed on the QR card.');
    setCodeError(null);
    setFound(null);
    const r = await run(() =>
      api.get<AccessCodeLookup>(`/v1/access-codes/${encodeURIComponent(c)}`).catch((err: unknown) => {
        // Said for a parent holding a card, not as the API's "No such access_code".
        if (err instanceof ApiError && err.status === 404) {
          throw new ApiError(404, { ...err.body, message: `There is no job with the access code ${c.toUpperCase()}. Check the code on the QR card and try again.` });
        }
        throw err;
      }),
    );
    if (r) setFound(r);
  };
  useEffect(() => {
    const initial = query.get('code');
    if (initial) void find(initial);
    // Only the code the page was opened with.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  return (
    <Page title="Pre-order photos" subtitle="With the access code on the student's QR card, before picture day.">
      <Section title="Your QR card">
        <form
          onSubmit={(e: FormEvent) => {
            e.preventDefault();
            void find(code);
          }}
          noValidate
          className="form inline-form"
          aria-label="Look up the access code"
        >
          <TextField
            label="Access code"
            value={code}
            onChange={(v) => {
              setCode(v);
              setCodeError(null);
              setFound(null);
            }}
            error={codeError}
            autoComplete="off"
            autoCapitalize="characters"
            spellCheck={false}
            maxLength={40}
            hint="Letters and digits; upper or lower case, spaces and dashes do not matter."
          />
          <ErrorNote error={lookup.error} />
          <Submit pending={lookup.pending}>Look up</Submit>
        </form>
      </Section>
      {found ? <PreOrderForm found={found} /> : null}
    </Page>
  );
}

function PreOrderForm({ found }: { found: AccessCodeLookup }) {
  const { user } = useSession();
  const zone = useTimeZone();
  const [student, setStudent] = useState('');
  const [rows, setRows] = useState<LineRow[]>([emptyLine()]);
  const [lineErrors, setLineErrors] = useState<LineErrors[]>([]);
  const act = useAction();
  const open = found.status === 'prepay';
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const parsed = parseLines(rows, found.currency);
    setLineErrors(parsed.ok ? [] : parsed.errors);
    if (!parsed.ok) return;
    const participant = found.subjectName === null && student.trim() ? { participantName: student.trim() } : {};
    const created = await act.run(
      () => api.post<JobOrder>('/v1/pre-orders', { accessCode: found.accessCode, customerId: user?.customerId, lines: parsed.lines.map((l) => ({ ...l, ...participant })) }),
      (jo) => `Pre-order ${jo.order.number} created. ${jo.order.state === 'payment' ? 'Please pay to confirm it.' : ''}`,
    );
    if (created) navigate(`/portal/receipts/${created.orderId}`);
  };
  return (
    <Section title={found.jobName}>
      <DefinitionList
        items={[
          ['Student', found.subjectName ?? 'Blank card (no name on the list)'],
          ['Access code', <span key="c" className="code">{found.accessCode}</span>],
          ['Picture day', found.pictureDay ? dateOnly(found.pictureDay, zone) : '—'],
        ]}
      />
      {open ? (
        <form onSubmit={submit} noValidate className="form" aria-label="Pre-order">
          {found.subjectName === null ? <TextField label="Student's name" value={student} onChange={setStudent} maxLength={200} hint="The card has no name yet: tell us who the photos are of." /> : null}
          <LinesEditor rows={rows} onChange={(r) => { setRows(r); setLineErrors([]); }} errors={lineErrors} currency={found.currency} />
          <p className="hint">You pay the whole order now; the photos follow after picture day.</p>
          <ErrorNote error={act.error} />
          <Submit pending={act.pending}>Pre-order</Submit>
        </form>
      ) : (
        <p className="error-note" role="alert">
          Pre-orders for this job have closed: its photos are on sale now.
        </p>
      )}
    </Section>
  );
}
