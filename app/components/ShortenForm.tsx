'use client';

import { useRef, useState, type FormEvent } from 'react';
import { api, type Link, type NewLink, type RedirectStatus } from '../lib/api';
import { fromDateTimeLocal } from '../lib/format';
import { maxClicksLimit, maxClicksMessage, parseMaxClicks } from '../lib/linkInput';
import { Field, FormProblemMessage, formProblem, type FormProblem } from './Field';
import { RedirectStatusSelect } from './RedirectStatusSelect';
import { ResultCard } from './ResultCard';
import styles from './ShortenForm.module.css';

const fields = ['url', 'slug', 'expiresAt', 'password', 'maxClicks', 'redirectStatus'] as const;
const optionFields: readonly string[] = ['slug', 'expiresAt', 'password', 'maxClicks', 'redirectStatus'];

export function ShortenForm() {
  const formRef = useRef<HTMLFormElement>(null);
  const [url, setUrl] = useState('');
  const [slug, setSlug] = useState('');
  const [expires, setExpires] = useState('');
  const [password, setPassword] = useState('');
  const [maxClicks, setMaxClicks] = useState('');
  const [redirectStatus, setRedirectStatus] = useState<RedirectStatus>(302);
  const [optionsOpen, setOptionsOpen] = useState(false);
  const [submitting, setSubmitting] = useState(false);
  const [problem, setProblem] = useState<FormProblem | null>(null);
  const [created, setCreated] = useState<Link | null>(null);

  function fail(next: FormProblem) {
    setProblem(next);
    if (next.field !== null && optionFields.includes(next.field)) setOptionsOpen(true);
    // Move focus to the input the message is about so keyboard users land on it.
    if (next.field !== null) {
      const field = next.field;
      requestAnimationFrame(() => formRef.current?.querySelector<HTMLElement>(`[data-field="${field}"]`)?.focus());
    }
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (submitting) return;
    const target = url.trim();
    if (target === '') return fail({ field: 'url', message: 'Enter the URL to shorten.' });
    const clicks = parseMaxClicks(maxClicks);
    if (clicks === null) return fail({ field: 'maxClicks', message: maxClicksMessage });

    const input: NewLink = { url: target };
    if (slug.trim() !== '') input.slug = slug.trim();
    const expiresAt = fromDateTimeLocal(expires);
    if (expiresAt !== undefined) input.expiresAt = expiresAt;
    if (password !== '') input.password = password;
    if (clicks !== undefined) input.maxClicks = clicks;
    if (redirectStatus !== 302) input.redirectStatus = redirectStatus;

    setSubmitting(true);
    setProblem(null);
    try {
      const link = await api.createLink(input);
      setCreated(link);
      setUrl('');
      setSlug('');
      setExpires('');
      setPassword('');
      setMaxClicks('');
      setRedirectStatus(302);
    } catch (error) {
      fail(formProblem(error, fields));
    } finally {
      setSubmitting(false);
    }
  }

  return (
    <>
      <form
        ref={formRef}
        className={`card ${styles.form}`}
        onSubmit={submit}
        noValidate
        data-testid="shorten-form"
        aria-label="Shorten a link"
      >
        <div className={styles.mainRow}>
          <Field name="url" label="Long URL" problem={problem}>
            {(control) => (
              <input
                {...control}
                className="input"
                type="url"
                name="url"
                inputMode="url"
                autoComplete="url"
                placeholder="https://example.com/a/very/long/page"
                required
                value={url}
                onChange={(e) => setUrl(e.target.value)}
                data-field="url"
                data-testid="url-input"
              />
            )}
          </Field>
          <button
            type="submit"
            className={`btn btn-primary ${styles.submit}`}
            disabled={submitting}
            data-testid="shorten-submit"
          >
            {submitting ? 'Shortening…' : 'Shorten'}
          </button>
        </div>

        <details className={styles.options} open={optionsOpen} onToggle={(e) => setOptionsOpen(e.currentTarget.open)}>
          <summary className={styles.summary}>Options</summary>
          <div className={styles.optionsGrid}>
            <Field name="slug" label="Custom slug" optional problem={problem} hint="3–64 letters, digits, - or _">
              {(control) => (
                <input
                  {...control}
                  className="input"
                  name="slug"
                  autoComplete="off"
                  spellCheck={false}
                  placeholder="my-campaign"
                  value={slug}
                  onChange={(e) => setSlug(e.target.value)}
                  data-field="slug"
                  data-testid="slug-input"
                />
              )}
            </Field>
            <Field name="expiresAt" label="Expires" optional problem={problem} hint="Your local time">
              {(control) => (
                <input
                  {...control}
                  className="input"
                  type="datetime-local"
                  name="expiresAt"
                  value={expires}
                  onChange={(e) => setExpires(e.target.value)}
                  data-field="expiresAt"
                  data-testid="expires-input"
                />
              )}
            </Field>
            <Field name="password" label="Password" optional problem={problem} hint="Visitors must enter it first">
              {(control) => (
                <input
                  {...control}
                  className="input"
                  type="password"
                  name="link-password"
                  autoComplete="new-password"
                  value={password}
                  onChange={(e) => setPassword(e.target.value)}
                  data-field="password"
                  data-testid="password-input"
                />
              )}
            </Field>
            <Field
              name="maxClicks"
              label="Max clicks"
              optional
              problem={problem}
              hint="The link stops after this many views"
            >
              {(control) => (
                <input
                  {...control}
                  className="input"
                  type="number"
                  name="maxClicks"
                  inputMode="numeric"
                  min={1}
                  max={maxClicksLimit}
                  step={1}
                  value={maxClicks}
                  onChange={(e) => setMaxClicks(e.target.value)}
                  data-field="maxClicks"
                  data-testid="max-clicks-input"
                />
              )}
            </Field>
            <Field name="redirectStatus" label="Redirect type" problem={problem}>
              {(control) => (
                <RedirectStatusSelect control={control} value={redirectStatus} onChange={setRedirectStatus} />
              )}
            </Field>
          </div>
        </details>

        <FormProblemMessage problem={problem} />
      </form>

      <div role="status" aria-live="polite" className="visually-hidden">
        {created !== null ? `Short link created: ${created.shortUrl}` : ''}
      </div>
      {created !== null && <ResultCard link={created} />}
    </>
  );
}
