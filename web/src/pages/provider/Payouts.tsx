// The provider's payouts and what is payable now.
import { api } from '../../lib/api';
import { useResource } from '../../lib/hooks';
import { useSession } from '../../lib/session';
import type { Provider } from '../../lib/types';
import { DefinitionList, Loaded, Page, Section } from '../../components/ui';
import { Balances } from '../admin/Customers';
import { PayoutsTable } from '../PayoutsTable';

export function ProviderPayouts() {
  const { user } = useSession();
  const me = useResource(() => api.get<Provider>(`/v1/providers/${user?.providerId}`), [user?.providerId]);
  return (
    <Page title="Payouts">
      <Section title="Balance">
        <Loaded resource={me}>{(p) => <DefinitionList items={[['Earned, not yet paid out', <Balances key="b" balances={p.payableBalances} />]]} />}</Loaded>
      </Section>
      <Section title="Payouts">
        <p className="hint">A closed order's payout is due some days after it closes (see the business's terms). Until it is paid, staff may refund the customer part of it: the payout is then smaller, or cancelled when refunded in full.</p>
        <PayoutsTable orderLink={(o) => `/provider/orders/${o}`} />
      </Section>
    </Page>
  );
}
