// Staff: providers with what Settle owes them, and each provider's payouts.
import { api } from '../../lib/api';
import { useDirectory } from '../../lib/directory';
import { useResource } from '../../lib/hooks';
import { Link } from '../../lib/router';
import type { Provider } from '../../lib/types';
import { DefinitionList, Empty, Loaded, Page, Section, TableWrap } from '../../components/ui';
import { Balances, NewParty } from './Customers';
import { PayoutsTable } from '../PayoutsTable';

export function AdminProviders() {
  const dir = useDirectory();
  return (
    <Page title="Providers">
      {!dir ? (
        <p aria-busy="true">Loading…</p>
      ) : dir.providers.length ? (
        <TableWrap label="Providers">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">E-mail</th>
              <th scope="col">Payable</th>
            </tr>
          </thead>
          <tbody>
            {dir.providers.map((p) => (
              <tr key={p.id}>
                <td>
                  <Link to={`/admin/providers/${p.id}`}>{p.name}</Link>
                </td>
                <td>{p.email}</td>
                <td>
                  <Balances balances={p.payableBalances} />
                </td>
              </tr>
            ))}
          </tbody>
        </TableWrap>
      ) : (
        <Empty>No providers yet.</Empty>
      )}
      <NewParty kind="provider" />
    </Page>
  );
}

export function AdminProvider({ id }: { id: string }) {
  const provider = useResource(() => api.get<Provider>(`/v1/providers/${id}`), [id]);
  return (
    <Loaded resource={provider}>
      {(p) => (
        <Page title={p.name} subtitle={p.email} actions={<Link to={`/admin/orders?providerId=${p.id}`}>Orders of {p.name}</Link>}>
          <Section title="Balance">
            <DefinitionList items={[['Payable (earned, not yet paid out)', <Balances key="b" balances={p.payableBalances} />]]} />
          </Section>
          <Section title="Payouts">
            <PayoutsTable providerId={p.id} orderLink={(o) => `/admin/orders/${o}`} />
          </Section>
        </Page>
      )}
    </Loaded>
  );
}
