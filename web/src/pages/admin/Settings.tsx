// Staff: the business's settings. New orders take a snapshot of them; existing orders keep
// the terms they were sold under. Only what changed is sent.
import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../../lib/api';
import { useResource } from '../../lib/hooks';
import { useSession } from '../../lib/session';
import type { Settings } from '../../lib/types';
import { ErrorNote, useAction } from '../../components/Feedback';
import { Submit } from '../../components/forms';
import { Loaded, Page } from '../../components/ui';
import { SettingsFields, formToSettings, settingsToForm, type SettingsForm } from './SettingsFields';

export function AdminSettings() {
  const settings = useResource(() => api.get<Settings>('/v1/settings'), []);
  return (
    <Page title="Settings" subtitle="Business-wide terms. Each new order keeps a copy of the terms in force when it was made.">
      <Loaded resource={settings}>{(s) => <SettingsEditor initial={s} onSaved={(next) => settings.setData(next)} />}</Loaded>
    </Page>
  );
}

function SettingsEditor({ initial, onSaved }: { initial: Settings; onSaved: (s: Settings) => void }) {
  const { setTimeZone } = useSession();
  const [form, setForm] = useState<SettingsForm>(() => settingsToForm(initial));
  const [errors, setErrors] = useState<Partial<Record<keyof SettingsForm, string>>>({});
  const act = useAction();
  useEffect(() => setForm(settingsToForm(initial)), [initial]);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const { patch, errors: found } = formToSettings(form, initial);
    setErrors(found);
    if (Object.keys(found).length) {
      act.setError(new Error('Some settings need a fix; see the fields marked below.'));
      return;
    }
    if (!Object.keys(patch).length) {
      act.setError(new Error('Nothing changed.'));
      return;
    }
    const saved = await act.run(() => api.patch<Settings>('/v1/settings', patch), 'Settings saved. New orders use them; existing orders keep theirs.');
    if (saved) {
      setTimeZone(saved.timeZone);
      onSaved(saved);
    }
  };
  return (
    <form onSubmit={submit} noValidate className="form settings-form">
      <SettingsFields form={form} setForm={setForm} errors={errors} clearError={(k) => setErrors(({ [k]: _fixed, ...rest }) => rest)} />
      <ErrorNote error={act.error} />
      <Submit pending={act.pending}>Save</Submit>
    </form>
  );
}
