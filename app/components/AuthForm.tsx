'use client';

import NextLink from 'next/link';
import { useRouter } from 'next/navigation';
import { useState, type FormEvent } from 'react';
import { api } from '../lib/api';
import { plural } from '../lib/format';
import { Field, FormProblemMessage, formProblem, type FormProblem } from './Field';
import { useSession } from './SessionProvider';
import styles from './AuthForm.module.css';

const fields = ['username', 'password'] as const;

const copy = {
  signin: {
    title: 'Sign in',
    lead: 'Links you made in this browser move to your account.',
    submit: 'Sign in',
    busy: 'Signing in…',
    other: { text: 'No account yet?', href: '/signup', label: 'Sign up' },
  },
  signup: {
    title: 'Create an account',
    lead: 'Keep your links across browsers and create API keys. Links you made in this browser come along.',
    submit: 'Sign up',
    busy: 'Creating account…',
    other: { text: 'Already have an account?', href: '/signin', label: 'Sign in' },
  },
} as const;

/** Username and password; on success the session follows and the page moves to My links. */
export function AuthForm({ mode }: { mode: 'signin' | 'signup' }) {
  const router = useRouter();
  const { setUser, showNotice } = useSession();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [submitting, setSubmitting] = useState(false);
  const [problem, setProblem] = useState<FormProblem | null>(null);
  const text = copy[mode];

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (submitting) return;
    if (username.trim() === '') return setProblem({ field: 'username', message: 'Enter your username.' });
    if (password === '') return setProblem({ field: 'password', message: 'Enter your password.' });
    setSubmitting(true);
    setProblem(null);
    try {
      const result =
        mode === 'signin' ? await api.signIn(username.trim(), password) : await api.signUp(username.trim(), password);
      setUser(result.user);
      showNotice(
        result.migrated > 0
          ? { text: `${plural(result.migrated, 'link')} moved to your account`, path: '/links' }
          : null,
      );
      router.push('/links');
    } catch (error) {
      setProblem(formProblem(error, fields));
      setSubmitting(false);
    }
  }

  return (
    <div className={`page ${styles.page}`}>
      <form
        className={`card ${styles.form}`}
        onSubmit={submit}
        noValidate
        aria-labelledby="auth-title"
        data-testid="auth-form"
      >
        <div>
          <h1 id="auth-title" className={styles.title}>
            {text.title}
          </h1>
          <p className="page-lead">{text.lead}</p>
        </div>
        <Field
          name="username"
          label="Username"
          problem={problem}
          hint={mode === 'signup' ? '3–32 characters: a–z, 0–9, _ or -' : undefined}
        >
          {(control) => (
            <input
              {...control}
              className="input"
              name="username"
              autoComplete="username"
              autoCapitalize="none"
              spellCheck={false}
              value={username}
              onChange={(e) => setUsername(e.target.value)}
              data-testid="username-input"
            />
          )}
        </Field>
        <Field
          name="password"
          label="Password"
          problem={problem}
          hint={mode === 'signup' ? 'At least 8 characters' : undefined}
        >
          {(control) => (
            <input
              {...control}
              className="input"
              type="password"
              name="password"
              autoComplete={mode === 'signup' ? 'new-password' : 'current-password'}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              data-testid="password-input"
            />
          )}
        </Field>
        <FormProblemMessage problem={problem} />
        <button type="submit" className="btn btn-primary" disabled={submitting} data-testid="auth-submit">
          {submitting ? text.busy : text.submit}
        </button>
        <p className={styles.other}>
          {text.other.text} <NextLink href={text.other.href}>{text.other.label}</NextLink>
        </p>
      </form>
    </div>
  );
}
