// What `npm start` prints: where Settle runs, the admin key and what to try next.
import type { RunningServer, ServerConfig } from '../app/server.js';

export function printBanner(running: RunningServer, config: ServerConfig, startMs: number): void {
  const { url, demo } = running;
  const key = demo?.adminKey ?? config.adminKey ?? '<your SETTLE_ADMIN_KEY>';
  const db = config.databaseUrl?.startsWith('postgres') ? 'PostgreSQL' : config.databaseUrl === 'memory://' ? 'PGlite (in memory)' : `PGlite in ${config.dataDir}`;
  const lines = [
    '',
    `Settle is running at ${url}  (${config.mode} mode, ${db}, ready in ${startMs} ms)`,
    `API docs: ${url}/docs    OpenAPI: ${url}/v1/openapi.json`,
    '',
    `Admin key: ${key}`,
  ];
  if (demo?.logins.length) {
    lines.push('', 'Demo logins (API keys):');
    for (const l of demo.logins) lines.push(`  ${l.role.padEnd(8)} ${l.name.padEnd(30)} ${l.id}  ${l.key}`);
  }
  if (demo?.webLogins.length) {
    lines.push('', `Web logins at ${url} (password "${demo.webLogins[0]?.password}" — sandbox only; or set one with the link, valid 24 h, once):`);
    for (const l of demo.webLogins) lines.push(`  ${l.role.padEnd(8)} ${l.email.padEnd(20)} ${url}${l.setPasswordPath}`);
  }
  const ada = demo?.logins.find((l) => l.role === 'customer');
  const provider = demo?.logins.find((l) => l.role === 'provider');
  lines.push(
    '',
    'Try:',
    `  curl -s ${url}/v1/customers -H "Authorization: Bearer ${key}"`,
  );
  if (ada && provider) {
    lines.push(
      `  curl -s ${url}/v1/customers/${ada.id}/transactions -H "Authorization: Bearer ${key}"`,
      `  curl -s ${url}/v1/charges -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" -H "Idempotency-Key: try-1" \\`,
      `       -d '{"customerId":"${ada.id}","providerId":"${provider.id}","amount":500,"currency":"USD","description":"Private chat, 5 minutes"}'`,
      `  curl -s ${url}/v1/customers/${ada.id}/top-ups -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" \\`,
      `       -d '{"amount":2000,"currency":"USD","paymentMethod":"pm_card_visa"}'`,
    );
  }
  lines.push(`  curl -s ${url}/v1/ledger/check -H "Authorization: Bearer ${key}"`, '');
  console.log(lines.join('\n'));
}
