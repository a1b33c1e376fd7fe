// Small building blocks: amounts, times, countdowns, states, pages and loading states.
import { useEffect, useRef, type ReactNode } from 'react';
import { dateTime, duration, money, signedMoney, words } from '../lib/format';
import { isClockFrozen, serverNow } from '../lib/clock';
import { useTick, type Resource } from '../lib/hooks';
import { useTimeZone } from '../lib/session';
import { hasNavigated } from '../lib/router';
import { ErrorNote } from './Feedback';

export function Money({ minor, currency, signed }: { minor: number; currency: string; signed?: boolean }) {
  return <span className="amount">{signed ? signedMoney(minor, currency) : money(minor, currency)}</span>;
}

export function Time({ iso }: { iso: string | null | undefined }) {
  const zone = useTimeZone();
  if (!iso) return <span>—</span>;
  return <time dateTime={iso}>{dateTime(iso, zone)}</time>;
}

/** The time left until a deadline, ticking every second (from the server's clock). */
export function Countdown({ at, label }: { at: string; label?: string }) {
  useTick(1000);
  const left = Date.parse(at) - serverNow();
  return (
    <span className={left <= 0 ? 'countdown countdown-over' : left < 3_600_000 ? 'countdown countdown-soon' : 'countdown'} data-testid="countdown">
      {label ? `${label} ` : ''}
      {left > 0 ? `in ${duration(left)}` : 'now (due)'}
      {isClockFrozen() ? ' · test clock' : ''}
    </span>
  );
}

const DEADLINE_WORDS: Record<string, string> = {
  expire_confirmation: 'Cancelled unless confirmed',
  expire_payment: 'Cancelled unless paid',
  auto_done: 'Marked done automatically',
  auto_close: 'Closed automatically',
  payout: 'Provider payout',
};

export function Deadline({ deadline }: { deadline: { at: string; action: string } | null }) {
  if (!deadline) return <span className="muted">No deadline</span>;
  return (
    <span className="deadline" data-testid="deadline">
      <strong>{DEADLINE_WORDS[deadline.action] ?? words(deadline.action)}</strong> <Countdown at={deadline.at} /> <span className="muted">(<Time iso={deadline.at} />)</span>
    </span>
  );
}

export function StateBadge({ state, label }: { state: string; label?: string | undefined }) {
  return <span className={`badge badge-${state}`}>{label ?? words(state)}</span>;
}

/** A page: its title gets focus when the page opens, so screen readers hear where they are. */
export function Page({ title, children, actions, subtitle }: { title: string; children: ReactNode; actions?: ReactNode; subtitle?: ReactNode }) {
  const h1 = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Settle`;
    // After a page change (not on the first load) focus goes to the new page's title.
    if (hasNavigated()) h1.current?.focus({ preventScroll: true });
  }, [title]);
  return (
    <section className="page">
      <header className="page-header">
        <div>
          <h1 ref={h1} tabIndex={-1}>
            {title}
          </h1>
          {subtitle ? <p className="subtitle">{subtitle}</p> : null}
        </div>
        {actions ? <div className="page-actions">{actions}</div> : null}
      </header>
      {children}
    </section>
  );
}

export function Section({ title, children, actions, id }: { title: string; children: ReactNode; actions?: ReactNode; id?: string }) {
  const headingId = `${id ?? title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-heading`;
  return (
    <section className="card" aria-labelledby={headingId}>
      <header className="card-header">
        <h2 id={headingId}>{title}</h2>
        {actions ? <div className="card-actions">{actions}</div> : null}
      </header>
      {children}
    </section>
  );
}

/** Renders a resource: loading, its error (with a retry), or the children with the data. */
export function Loaded<T>({ resource, children }: { resource: Resource<T>; children: (data: T) => ReactNode }) {
  if (resource.data !== undefined) return <>{children(resource.data)}</>;
  if (resource.error) {
    return (
      <div>
        <ErrorNote error={resource.error} />
        <button type="button" onClick={() => void resource.reload()}>
          Try again
        </button>
      </div>
    );
  }
  return (
    <p className="muted" aria-busy="true">
      Loading…
    </p>
  );
}

/** A table that scrolls sideways on a narrow screen instead of overflowing the page. */
export function TableWrap({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-wrap" role="region" aria-label={label} tabIndex={0}>
      <table>{children}</table>
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

export function DefinitionList({ items }: { items: [string, ReactNode][] }) {
  return (
    <dl className="facts">
      {items.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}
