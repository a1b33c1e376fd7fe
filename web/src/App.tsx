// Which page a path shows, and who may see it.
import type { ReactNode } from 'react';
import { Layout } from './components/Layout';
import { Page } from './components/ui';
import { Link, match, navigate, useLocation } from './lib/router';
import { homeOf, useSession } from './lib/session';
import type { Role } from './lib/types';
import { LoginPage } from './pages/Login';
import { SetPasswordPage } from './pages/SetPassword';
import { AdminOrders } from './pages/admin/Orders';
import { AdminOrder } from './pages/admin/Order';
import { AdminSites } from './pages/admin/Sites';
import { AdminSite } from './pages/admin/Site';
import { AdminJobs } from './pages/admin/Jobs';
import { AdminJob } from './pages/admin/Job';
import { AdminCustomers } from './pages/admin/Customers';
import { AdminCustomer } from './pages/admin/Customer';
import { AdminProviders, AdminProvider } from './pages/admin/Providers';
import { AdminSettings } from './pages/admin/Settings';
import { PortalHome } from './pages/customer/Home';
import { PreOrderPage } from './pages/customer/PreOrder';
import { Receipt } from './pages/customer/Receipt';
import { ProviderHome } from './pages/provider/Home';
import { ProviderOrder } from './pages/provider/Order';
import { ProviderPayouts } from './pages/provider/Payouts';

type Params = Record<string, string>;
const ROUTES: { pattern: string; role: Role; render: (p: Params) => ReactNode }[] = [
  { pattern: '/admin/orders', role: 'admin', render: () => <AdminOrders /> },
  { pattern: '/admin/orders/:id', role: 'admin', render: (p) => <AdminOrder id={p.id as string} /> },
  { pattern: '/admin/sites', role: 'admin', render: () => <AdminSites /> },
  { pattern: '/admin/sites/:id', role: 'admin', render: (p) => <AdminSite id={p.id as string} /> },
  { pattern: '/admin/jobs', role: 'admin', render: () => <AdminJobs /> },
  { pattern: '/admin/jobs/:id', role: 'admin', render: (p) => <AdminJob id={p.id as string} /> },
  { pattern: '/admin/customers', role: 'admin', render: () => <AdminCustomers /> },
  { pattern: '/admin/customers/:id', role: 'admin', render: (p) => <AdminCustomer id={p.id as string} /> },
  { pattern: '/admin/providers', role: 'admin', render: () => <AdminProviders /> },
  { pattern: '/admin/providers/:id', role: 'admin', render: (p) => <AdminProvider id={p.id as string} /> },
  { pattern: '/admin/settings', role: 'admin', render: () => <AdminSettings /> },
  { pattern: '/portal', role: 'customer', render: () => <PortalHome /> },
  { pattern: '/portal/pre-order', role: 'customer', render: () => <PreOrderPage /> },
  { pattern: '/portal/receipts/:id', role: 'customer', render: (p) => <Receipt id={p.id as string} /> },
  { pattern: '/provider', role: 'provider', render: () => <ProviderHome /> },
  { pattern: '/provider/orders/:id', role: 'provider', render: (p) => <ProviderOrder id={p.id as string} /> },
  { pattern: '/provider/payouts', role: 'provider', render: () => <ProviderPayouts /> },
];

function NotFound({ text }: { text: string }) {
  const { user } = useSession();
  return (
    <Page title="Page not found">
      <p>{text}</p>
      <p>
        <Link to={user ? homeOf(user) : '/login'}>Go to your start page</Link>
      </p>
    </Page>
  );
}

export function App() {
  const { ready, user, signedIn } = useSession();
  const { path } = useLocation();
  if (!ready) {
    return (
      <p className="boot muted" aria-busy="true">
        Loading Settle…
      </p>
    );
  }
  if (path === '/set-password') {
    return (
      <Layout>
        <SetPasswordPage onSignedIn={signedIn} />
      </Layout>
    );
  }
  if (path === '/' || path === '/login') {
    if (user) {
      queueMicrotask(() => navigate(homeOf(user), { replace: true }));
      return null;
    }
    return (
      <Layout>
        <LoginPage />
      </Layout>
    );
  }
  for (const route of ROUTES) {
    const params = match(route.pattern, path);
    if (!params) continue;
    if (!user) {
      queueMicrotask(() => navigate(`/login?next=${encodeURIComponent(path)}`, { replace: true }));
      return null;
    }
    if (user.role !== route.role) {
      return (
        <Layout>
          <NotFound text="This page is not part of your account." />
        </Layout>
      );
    }
    // key: a fresh page (and fresh form state) for each order, site, customer…
    return (
      <Layout>
        <div key={path}>{route.render(params)}</div>
      </Layout>
    );
  }
  return (
    <Layout>
      <NotFound text={`There is no page at ${path}.`} />
    </Layout>
  );
}
