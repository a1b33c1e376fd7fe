// The frame of every signed-in page: the skip link, the role's navigation, who is signed
// in, the business time zone, and the page itself.
import type { ReactNode } from 'react';
import { Link, navigate, useLocation } from '../lib/router';
import { useSession } from '../lib/session';
import { useNotify } from './Feedback';

const NAV: Record<string, { to: string; label: string }[]> = {
  admin: [
    { to: '/admin/orders', label: 'Orders' },
    { to: '/admin/sites', label: 'Sites' },
    { to: '/admin/jobs', label: 'Jobs' },
    { to: '/admin/customers', label: 'Customers' },
    { to: '/admin/providers', label: 'Providers' },
    { to: '/admin/settings', label: 'Settings' },
  ],
  customer: [
    { to: '/portal', label: 'Transactions and receipts' },
    { to: '/portal/pre-order', label: 'Pre-order photos' },
  ],
  provider: [
    { to: '/provider', label: 'Orders' },
    { to: '/provider/payouts', label: 'Payouts' },
  ],
};

export function Layout({ children }: { children: ReactNode }) {
  const { user, logout, timeZone, config } = useSession();
  const { path } = useLocation();
  const notify = useNotify();
  const items = user ? (NAV[user.role] ?? []) : [];
  const signOut = async () => {
    await logout();
    notify('Signed out.');
    navigate('/login');
  };
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to={user ? items[0]?.to ?? '/' : '/'} className="brand">
          Settle{user?.role === 'admin' ? ' · Admin' : user?.role === 'provider' ? ' · Provider' : ''}
        </Link>
        {config.mode === 'sandbox' ? <span className="sandbox-tag">Sandbox</span> : null}
        {items.length ? (
          <nav aria-label="Main">
            <ul>
              {items.map((i) => (
                <li key={i.to}>
                  <Link to={i.to} aria-current={path === i.to || (i.to !== '/portal' && i.to !== '/provider' && path.startsWith(`${i.to}/`)) ? 'page' : undefined}>
                    {i.label}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
        ) : null}
        {user ? (
          <div className="who">
            <span>
              {user.name}
              {user.email ? <span className="muted"> · {user.email}</span> : null}
            </span>
            <button type="button" className="button-secondary" onClick={() => void signOut()}>
              Sign out
            </button>
          </div>
        ) : null}
      </header>
      <main id="main">{children}</main>
      <footer className="footer">
        Times are shown in the business time zone, <strong>{timeZone}</strong>. <a href="/docs">API docs</a>
      </footer>
    </>
  );
}
