// Account settings: display name, password, personal API tokens (shown once).
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from '../lib/api';
import { ago, dateTime } from '../lib/format';
import { useAsync, useTitle } from '../lib/hooks';
import { navigate } from '../lib/router';
import { useSession, useToasts } from '../lib/session';
import { CopyField, EmptyState, ErrorState, Field, Spinner, errorText } from '../components/ui';
import * as I from '../components/icons';

export function Account() {
  useTitle('Account');
  const { user } = useSession();
  useEffect(() => { if (user === null) navigate('/signin?next=/account', true); }, [user]);
  if (!user) return <div class="page-loading"><Spinner /></div>;
  return (
    <div class="page narrow dash">
      <div class="section-head"><h1>Account</h1><p class="muted">{user.email}</p></div>
      <Profile />
      <Password />
      <Tokens />
    </div>
  );
}

function Profile() {
  const { user, setUser } = useSession();
  const { push } = useToasts();
  const [name, setName] = useState(user?.display_name ?? '');
  const [err, setErr] = useState('');
  const [busy, setBusy] = useState(false);
  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr('');
    try {
      setUser(await api.updateMe({ display_name: name.trim() }));
      push({ kind: 'success', title: 'Name saved' });
    } catch (e) {
      setErr(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="panel form" onSubmit={save} aria-labelledby="acc-profile-h" noValidate>
      <h2 id="acc-profile-h">Profile</h2>
      <Field id="acc-name" label="Display name" error={err || undefined}>
        <input id="acc-name" maxLength={50} value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
      </Field>
      <div class="form-actions"><button class="btn primary" type="submit" disabled={busy}>{busy ? <Spinner label="Saving" /> : 'Save'}</button></div>
    </form>
  );
}

function Password() {
  const { push } = useToasts();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [err, setErr] = useState<{ field?: string; message: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const save = async (e: Event) => {
    e.preventDefault();
    if (next.length < 10) { setErr({ field: 'new_password', message: 'Use at least 10 characters.' }); return; }
    setBusy(true);
    setErr(null);
    try {
      await api.changePassword(current, next);
      setCurrent('');
      setNext('');
      push({ kind: 'success', title: 'Password changed', body: 'Other sessions were signed out.' });
    } catch (e) {
      setErr(e instanceof ApiError ? { field: e.field, message: e.message } : { message: errorText(e) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="panel form" onSubmit={save} aria-labelledby="acc-pw-h" noValidate>
      <h2 id="acc-pw-h">Password</h2>
      {err && err.field !== 'new_password' && err.field !== 'current_password' && <p class="form-error" role="alert">{err.message}</p>}
      <div class="row2">
        <Field id="acc-cur" label="Current password" error={err?.field === 'current_password' ? err.message : undefined}>
          <input id="acc-cur" type="password" autocomplete="current-password" value={current} onInput={(e) => setCurrent((e.currentTarget as HTMLInputElement).value)} />
        </Field>
        <Field id="acc-new" label="New password" hint="At least 10 characters." error={err?.field === 'new_password' ? err.message : undefined}>
          <input id="acc-new" type="password" autocomplete="new-password" value={next} onInput={(e) => setNext((e.currentTarget as HTMLInputElement).value)} />
        </Field>
      </div>
      <div class="form-actions"><button class="btn primary" type="submit" disabled={busy || !current}>{busy ? <Spinner label="Saving" /> : 'Change password'}</button></div>
    </form>
  );
}

function Tokens() {
  const { push } = useToasts();
  const list = useAsync(() => api.tokens(), []);
  const [name, setName] = useState('');
  const [fresh, setFresh] = useState<{ name: string; token: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [nameError, setNameError] = useState('');
  const create = async (e: Event) => {
    e.preventDefault();
    if (!name.trim()) return;
    setBusy(true);
    setNameError('');
    try {
      const t = await api.createToken(name.trim());
      setFresh({ name: t.name, token: t.token });
      setName('');
      list.reload();
    } catch (e) {
      if (e instanceof ApiError && e.field === 'name') setNameError(e.message);
      else push({ kind: 'error', title: 'The token was not created', body: errorText(e) });
    } finally {
      setBusy(false);
    }
  };
  const remove = async (id: string, tokenName: string) => {
    if (!confirm(`Delete the token “${tokenName}”? Scripts using it stop working.`)) return;
    try {
      await api.deleteToken(id);
      list.reload();
    } catch (e) {
      push({ kind: 'error', title: 'The token was not deleted', body: errorText(e) });
    }
  };
  return (
    <section class="panel" aria-labelledby="acc-tok-h">
      <h2 id="acc-tok-h">API tokens</h2>
      <p class="muted">For scripts and automation: send <code>Authorization: Bearer &lt;token&gt;</code>. A token acts as you.</p>
      <form class="toolbar" onSubmit={create}>
        <label class="sr-only" for="tok-name">Token name</label>
        <input id="tok-name" placeholder="Name, e.g. “OBS script”" maxLength={50} value={name}
          aria-invalid={nameError ? 'true' : undefined} aria-describedby={nameError ? 'tok-name-error' : undefined}
          onInput={(e) => { setName((e.currentTarget as HTMLInputElement).value); setNameError(''); }} />
        <button class="btn primary" type="submit" disabled={busy || !name.trim()}>Create token</button>
      </form>
      {nameError && <p class="field-error" id="tok-name-error" role="alert">{nameError}</p>}
      {fresh && (
        <>
          <CopyField id="new-token" label={`New token “${fresh.name}”`} value={fresh.token} />
          <p class="notice warn" role="note">This token is shown only now. Store it somewhere safe.</p>
        </>
      )}
      {list.error ? <ErrorState error={list.error} retry={list.reload} /> : !list.data ? <Spinner /> : list.data.items.length === 0 ? (
        <EmptyState title="No tokens yet" icon={<I.Shield size={28} />} />
      ) : (
        <div class="table-wrap">
          <table class="table">
            <thead><tr><th scope="col">Name</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col"><span class="sr-only">Delete</span></th></tr></thead>
            <tbody>
              {list.data.items.map((t) => (
                <tr key={t.id}>
                  <td><strong>{t.name}</strong></td>
                  <td class="muted">{dateTime(t.created_at)}</td>
                  <td class="muted">{t.last_used_at ? ago(t.last_used_at) : 'never'}</td>
                  <td class="actions"><button type="button" class="btn small danger" aria-label={`Delete token ${t.name}`} onClick={() => remove(t.id, t.name)}>Delete</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
