// Sign up and sign in.
import { useState } from 'preact/hooks';
import { api, ApiError } from '../lib/api';
import { useTitle } from '../lib/hooks';
import { navigate } from '../lib/router';
import { useSession } from '../lib/session';
import { Field, Spinner } from '../components/ui';
import * as I from '../components/icons';

function safeNext(next: string): string {
  // Only same-site paths: never an open redirect.
  return next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

interface FormError { field?: string; message: string }

function toFormError(e: unknown): FormError {
  if (e instanceof ApiError) {
    if (e.status === 429) return { message: e.message || 'Too many attempts. Wait a minute and try again.' };
    return { field: e.field, message: e.message };
  }
  return { message: (e as Error).message };
}

export function SignIn({ next }: { next: string }) {
  useTitle('Sign in');
  const { setUser } = useSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<FormError | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    try {
      const me = await api.signIn(email.trim(), password);
      setUser(me.user);
      navigate(safeNext(next), true);
    } catch (e) {
      setErr(toFormError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="auth-page">
      <form class="auth-card" onSubmit={submit} noValidate aria-labelledby="signin-h">
        <I.Logo size={40} />
        <h1 id="signin-h">Welcome back</h1>
        <p class="muted">Sign in to follow channels and go live.</p>
        {err && !err.field && <p class="form-error" role="alert">{err.message}</p>}
        <Field id="si-email" label="Email" error={err?.field === 'email' ? err.message : undefined}>
          <input id="si-email" type="email" autocomplete="email" required value={email} onInput={(e) => setEmail((e.currentTarget as HTMLInputElement).value)} />
        </Field>
        <Field id="si-password" label="Password" error={err?.field === 'password' ? err.message : undefined}>
          <input id="si-password" type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword((e.currentTarget as HTMLInputElement).value)} />
        </Field>
        <button class="btn primary block" type="submit" disabled={busy}>{busy ? <Spinner label="Signing in" /> : 'Sign in'}</button>
        <p class="muted center">New to Livehouse? <a href={`/signup?next=${encodeURIComponent(next)}`}>Create an account</a></p>
      </form>
    </div>
  );
}

export function SignUp({ next }: { next: string }) {
  useTitle('Sign up');
  const { setUser } = useSession();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<FormError | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (password.length < 10) {
      setErr({ field: 'password', message: 'Use at least 10 characters.' });
      return;
    }
    setBusy(true);
    setErr(null);
    try {
      const me = await api.signUp(email.trim(), password, name.trim());
      setUser(me.user);
      navigate(safeNext(next), true);
    } catch (e) {
      setErr(toFormError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="auth-page">
      <form class="auth-card" onSubmit={submit} noValidate aria-labelledby="signup-h">
        <I.Logo size={40} />
        <h1 id="signup-h">Create your account</h1>
        <p class="muted">Watch, follow and stream — all in one place.</p>
        {err && !err.field && <p class="form-error" role="alert">{err.message}</p>}
        <Field id="su-name" label="Display name" error={err?.field === 'display_name' ? err.message : undefined}>
          <input id="su-name" autocomplete="nickname" required maxLength={50} value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
        </Field>
        <Field id="su-email" label="Email" error={err?.field === 'email' ? err.message : undefined}>
          <input id="su-email" type="email" autocomplete="email" required value={email} onInput={(e) => setEmail((e.currentTarget as HTMLInputElement).value)} />
        </Field>
        <Field id="su-password" label="Password" hint="At least 10 characters." error={err?.field === 'password' ? err.message : undefined}>
          <input id="su-password" type="password" autocomplete="new-password" required minLength={10} value={password} onInput={(e) => setPassword((e.currentTarget as HTMLInputElement).value)} aria-describedby="su-password-hint" />
        </Field>
        <button class="btn primary block" type="submit" disabled={busy}>{busy ? <Spinner label="Creating account" /> : 'Create account'}</button>
        <p class="muted center">Already have an account? <a href={`/signin?next=${encodeURIComponent(next)}`}>Sign in</a></p>
      </form>
    </div>
  );
}
