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

/** The form's inputs as typed (`expires` in the local time of the datetime-local input). */
interface LinkDraft {
  url: string;
  slug: string;
  expires: string;
  password: string;
  maxClicks: string;
  redirectStatus: RedirectStatus;
}

const emptyDraft: LinkDraft = { url: '', slug: '', expires: '', password: '', maxClicks: '', redirectStatus: 302 };

type DraftChange = <K extends keyof LinkDraft>(key: K, value: LinkDraft[K]) => void;

/** The link to create from `draft` (options left at their default are left out), or the problem that stops it. */
function newLinkFrom(draft: LinkDraft): { input: NewLink } | { problem: FormProblem } {
  const target = draft.url.trim();
  if (target === '') return { problem: { field: 'url', message: 'Enter the URL to shorten.' } };
  const clicks = parseMaxClicks(draft.maxClicks);
  if (clicks === null) return { problem: { field: 'maxClicks', message: maxClicksMessage } };

  const input: NewLink = { url: target };
  if (draft.slug.trim() !== '') input.slug = draft.slug.trim();
  const expiresAt = fromDateTimeLocal(draft.expires);
  if (expiresAt !== undefined) input.expiresAt = expiresAt;
  if (draft.password !== '') input.password = draft.password;
  if (clicks !== undefined) input.maxClicks = clicks;
  if (draft.redirectStatus !== 302) input.redirectStatus = draft.redirectStatus;
  return { input };
}

export function ShortenForm() {
  const formRef = useRef<HTMLFormElement>(null);
  const [draft, setDraft] = useState<LinkDraft>(emptyDraft);
  const [optionsOpen, setOptionsOpen] = useState(false);
  const [submitting, setSubmitting] = useState(false);
  const [problem, setProblem] = useState<FormProblem | null>(null);
  const [created, setCreated] = useState<Link | null>(null);

  const change: DraftChange = (key, value) => setDraft((current) => ({ ...current, [key]: value }));

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
    const built = newLinkFrom(draft);
    if ('problem' in built) return fail(built.problem);

    setSubmitting(true);
    setProblem(null);
    try {
      const link = await api.createLink(built.input);
      setCreated(link);
      setDraft(emptyDraft);
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
        <UrlRow url={draft.url} onChange={(url) => change('url', url)} problem={problem} submitting={submitting} />
        <LinkOptions draft={draft} onChange={change} problem={problem} open={optionsOpen} onOpen={setOptionsOpen} />
        <FormProblemMessage problem={problem} />
      </form>

      <div role="status" aria-live="polite" className="visually-hidden">
        {created !== null ? `Short link created: ${created.shortUrl}` : ''}
      </div>
      {created !== null && <ResultCard link={created} />}
    </>
  );
}

/** The long URL and the submit button. */
function UrlRow({
  url,
  onChange,
  problem,
  submitting,
}: {
  url: string;
  onChange: (url: string) => void;
  problem: FormProblem | null;
  submitting: boolean;
}) {
  return (
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
            onChange={(e) => onChange(e.target.value)}
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
  );
}

interface DraftFieldsProps {
  draft: LinkDraft;
  onChange: DraftChange;
  problem: FormProblem | null;
}

/** The collapsible options: custom slug, the access limits and the redirect type. */
function LinkOptions({
  draft,
  onChange,
  problem,
  open,
  onOpen,
}: DraftFieldsProps & { open: boolean; onOpen: (open: boolean) => void }) {
  return (
    <details className={styles.options} open={open} onToggle={(e) => onOpen(e.currentTarget.open)}>
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
              value={draft.slug}
              onChange={(e) => onChange('slug', e.target.value)}
              data-field="slug"
              data-testid="slug-input"
            />
          )}
        </Field>
        <AccessLimitFields draft={draft} onChange={onChange} problem={problem} />
        <Field name="redirectStatus" label="Redirect type" problem={problem}>
          {(control) => (
            <RedirectStatusSelect
              control={control}
              value={draft.redirectStatus}
              onChange={(status) => onChange('redirectStatus', status)}
            />
          )}
        </Field>
      </div>
    </details>
  );
}

/** Expiry, password and max clicks: what keeps visitors from following the link. */
function AccessLimitFields({ draft, onChange, problem }: DraftFieldsProps) {
  return (
    <>
      <Field name="expiresAt" label="Expires" optional problem={problem} hint="Your local time">
        {(control) => (
          <input
            {...control}
            className="input"
            type="datetime-local"
            name="expiresAt"
            value={draft.expires}
            onChange={(e) => onChange('expires', e.target.value)}
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
            value={draft.password}
            onChange={(e) => onChange('password', e.target.value)}
            data-field="password"
            data-testid="password-input"
          />
        )}
      </Field>
      <Field name="maxClicks" label="Max clicks" optional problem={problem} hint="The link stops after this many views">
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
            value={draft.maxClicks}
            onChange={(e) => onChange('maxClicks', e.target.value)}
            data-field="maxClicks"
            data-testid="max-clicks-input"
          />
        )}
      </Field>
    </>
  );
}
