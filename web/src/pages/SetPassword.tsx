// The password-set link (`/set-password#token=…`, printed in sandbox mode or made by staff):
// choose a password, then you are signed in.
import { useState, type FormEvent } from 'react';
import { api, setApiKey, setCsrfToken } from '../lib/api';
import { navigate } from '../lib/router';
import { homeOf } from '../lib/session';
import type { User } from '../lib/types';
import { ErrorNote, useAction } from '../components/Feedback';
import { Submit, TextField } from '../components/forms';
import { Page, Section } from '../components/ui';

const MIN_LENGTH = 10;

export function SetPasswordPage({ onSignedIn }: { onSignedIn: (u: User) => void }) {
  const token = new URLSearchParams(window.location.hash.slice(1)).get('token') ?? '';
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const [errors, setErrors] = useState<{ password?: string; again?: string }>({});
  const act = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const found = {
      ...(password.length < MIN_LENGTH ? { password: `Use at least ${MIN_LENGTH} characters.` } : {}),
      ...(again !== password ? { again: 'The two passwords differ.' } : {}),
    };
    setErrors(found);
    if (found.password || found.again) return;
    const s = await act.run(() => api.post<{ user: User; csrfToken: string }>('/v1/auth/set-password', { token, password }), 'Password set. You are signed in.');
    if (s) {
      setApiKey(null);
      setCsrfToken(s.csrfToken);
      onSignedIn(s.user);
      navigate(homeOf(s.user), { replace: true });
    }
  };
  return (
    <Page title="Set your password">
      <Section title="Choose a password">
        {token ? (
          <form onSubmit={submit} noValidate className="form">
            <TextField label="New password" type="password" autoComplete="new-password" value={password} onChange={(v) => { setPassword(v); setErrors(({ password: _fixed, ...rest }) => rest); }} error={errors.password ?? null} hint={`At least ${MIN_LENGTH} characters, not your e-mail address.`} />
            <TextField label="Repeat the password" type="password" autoComplete="new-password" value={again} onChange={(v) => { setAgain(v); setErrors(({ again: _fixed, ...rest }) => rest); }} error={errors.again ?? null} />
            <ErrorNote error={act.error} />
            <Submit pending={act.pending}>Set password</Submit>
          </form>
        ) : (
          <p>This link is incomplete. Open the whole link you were given, or ask staff for a new one.</p>
        )}
      </Section>
    </Page>
  );
}
