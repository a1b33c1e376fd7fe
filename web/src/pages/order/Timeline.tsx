// The order's history: who did what, when, and why.
import { words } from '../../lib/format';
import type { OrderEvent } from '../../lib/types';
import { Time } from '../../components/ui';

function actorWords(actor: string): string {
  const [role] = actor.split(':');
  return role === 'operator' || role === 'admin' ? 'Staff' : role === 'system' ? 'Settle (deadline)' : words(role ?? actor);
}

export function Timeline({ events }: { events: OrderEvent[] }) {
  if (!events.length) return <p className="muted">No events yet.</p>;
  return (
    <ol className="timeline" aria-label="Event timeline">
      {[...events].reverse().map((e) => (
        <li key={e.id}>
          <Time iso={e.createdAt} />
          <div>
            <strong>{words(e.transition ?? e.type.replace(/^order\./, ''))}</strong> by {actorWords(e.actor)}
            {e.from && e.to && e.from !== e.to ? (
              <span className="muted">
                {' '}
                · {words(e.from)} → {words(e.to)}
              </span>
            ) : null}
            {e.reason ? <div className="small">Reason: {e.reason}</div> : null}
          </div>
        </li>
      ))}
    </ol>
  );
}
