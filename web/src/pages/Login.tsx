// The first page: sign in, and in sandbox mode the demo logins to try at once.
import { useState, type FormEvent } from 'react';
import { ErrorNote, useAction } from '../components/Feedback';
import { Submit, TextField } from '../components/forms';
import { Page, Section, TableWrap } from '../components/ui';
import { navigate, useLocation } from '../lib/router';
import { homeOf, useSession } from '../lib/session';
import type { User } from '../lib/types';

const ROLE_WORDS = { admin: 'Staff', customer: 'Customer', provider: 'Provider' } as const;

export function LoginPage() {
  const { config, passwordLogin, login, loginWithKey } = useSession();
  const { query } = useLocation();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [key, setKey] = useState('');
  const signIn = useAction();
  const keyIn = useAction();
  const next = query.get('next');
  const go = (u: User | undefined) => {
    if (!u) return;
    const target = next && next.startsWith('/') && !next.startsWith('//') ? next : homeOf(u);
    navigate(target, { replace: true });
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!email.trim() || !password) {
      signIn.setError(new Error('Enter your e-mail and password.'));
      return;
    }
    go(await signIn.run(() => login(email.trim(), password), (u) => `Signed in as ${u.name}.`));
  };
  const submitKey = async (e: FormEvent) => {
    e.preventDefault();
    if (!key.trim()) {
      keyIn.setError(new Error('Paste an admin API key.'));
      return;
    }
    go(await keyIn.run(() => loginWithKey(key.trim()), 'Signed in with the API key.'));
  };
  const demo = config.demo;
  return (
    <Page title="Sign in to Settle" subtitle="Orders, deadlines, refunds and payouts for services paid in advance.">
      <div className="login-grid">
        {passwordLogin ? (
          <Section title="E-mail and password">
            <form onSubmit={submit} noValidate className="form">
              <TextField label="E-mail" type="email" autoComplete="username" value={email} onChange={setEmail} />
              <TextField label="Password" type="password" autoComplete="current-password" value={password} onChange={setPassword} />
              <ErrorNote error={signIn.error} />
              <Submit pending={signIn.pending}>Sign in</Submit>
            </form>
          </Section>
        ) : (
          <Section title="E-mail and password">
            <p className="muted">This server does not offer password sign-in yet. Staff can sign in with an admin API key.</p>
          </Section>
        )}
        <Section title="Staff: admin API key">
          <form onSubmit={submitKey} noValidate className="form">
            <TextField
              label="API key"
              type="password"
              autoComplete="off"
              value={key}
              onChange={setKey}
              hint="The admin key printed by `npm start`, or SETTLE_ADMIN_KEY. Kept for this browser tab only."
            />
            <ErrorNote error={keyIn.error} />
            <Submit pending={keyIn.pending} variant="secondary">
              Sign in with key
            </Submit>
          </form>
        </Section>
      </div>
      {demo ? (
        <Section title="Demo logins (sandbox)">
          <p>
            Every demo user's password is <code>{demo.password}</code> (sandbox only). Choose one to fill in the form.
          </p>
          <TableWrap label="Demo logins">
            <thead>
              <tr>
                <th scope="col">Role</th>
                <th scope="col">Name</th>
                <th scope="col">E-mail</th>
                <th scope="col">
                  <span className="sr-only">Action</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {demo.logins.map((l) => (
                <tr key={l.email}>
                  <td>{ROLE_WORDS[l.role]}</td>
                  <td>{l.name}</td>
                  <td>{l.email}</td>
                  <td>
                    <button
                      type="button"
                      className="button-secondary"
                      onClick={() => {
                        setEmail(l.email);
                        setPassword(demo.password);
                        document.querySelector<HTMLButtonElement>('form button[type=submit]')?.focus();
                      }}
                    >
                      Use {l.name.split(' ')[0]}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </TableWrap>
        </Section>
      ) : null}
    </Page>
  );
}
