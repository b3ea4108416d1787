'use client';

import { useState, type FormEvent } from 'react';
import { api, type Link, type LinkChanges, type RedirectStatus } from '../lib/api';
import { fromDateTimeLocal, toDateTimeLocal } from '../lib/format';
import { maxClicksMessage, parseMaxClicks } from '../lib/linkInput';
import { Dialog } from './Dialog';
import { Field, FormProblemMessage, formProblem, type FormProblem } from './Field';
import { RedirectStatusSelect } from './RedirectStatusSelect';
import styles from './EditLinkDialog.module.css';

const fields = ['url', 'expiresAt', 'password', 'maxClicks', 'redirectStatus'] as const;
type PasswordChoice = 'keep' | 'set' | 'clear';

/** Edit a link's target and options; sends only what changed (PATCH). */
export function EditLinkDialog({
  link,
  onClose,
  onSaved,
}: {
  link: Link | null;
  onClose: () => void;
  onSaved: (link: Link) => void;
}) {
  return (
    <Dialog
      open={link !== null}
      onClose={onClose}
      title={link !== null ? `Edit /${link.slug}` : 'Edit link'}
      testId="edit-dialog"
    >
      {link !== null && <EditLinkForm key={link.slug} link={link} onClose={onClose} onSaved={onSaved} />}
    </Dialog>
  );
}

/** The PATCH body for the form's values; an empty object when nothing changed. */
function changesFrom(
  link: Link,
  values: {
    url: string;
    expires: string;
    maxClicks: number | undefined;
    redirectStatus: RedirectStatus;
    passwordChoice: PasswordChoice;
    password: string;
  },
): LinkChanges {
  const changes: LinkChanges = {};
  if (values.url.trim() !== link.url) changes.url = values.url.trim();
  if (values.expires !== toDateTimeLocal(link.expiresAt)) changes.expiresAt = fromDateTimeLocal(values.expires) ?? null;
  if ((values.maxClicks ?? null) !== link.maxClicks) changes.maxClicks = values.maxClicks ?? null;
  if (values.redirectStatus !== link.redirectStatus) changes.redirectStatus = values.redirectStatus;
  if (values.passwordChoice === 'set') changes.password = values.password;
  if (values.passwordChoice === 'clear') changes.password = null;
  return changes;
}

function EditLinkForm({ link, onClose, onSaved }: { link: Link; onClose: () => void; onSaved: (link: Link) => void }) {
  const [url, setUrl] = useState(link.url);
  const [expires, setExpires] = useState(toDateTimeLocal(link.expiresAt));
  const [maxClicks, setMaxClicks] = useState(link.maxClicks === null ? '' : String(link.maxClicks));
  const [redirectStatus, setRedirectStatus] = useState<RedirectStatus>(link.redirectStatus);
  const [passwordChoice, setPasswordChoice] = useState<PasswordChoice>('keep');
  const [password, setPassword] = useState('');
  const [saving, setSaving] = useState(false);
  const [problem, setProblem] = useState<FormProblem | null>(null);

  async function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (saving) return;
    if (url.trim() === '') return setProblem({ field: 'url', message: 'Enter the URL this link goes to.' });
    const clicks = parseMaxClicks(maxClicks);
    if (clicks === null) return setProblem({ field: 'maxClicks', message: maxClicksMessage });
    if (passwordChoice === 'set' && password === '')
      return setProblem({ field: 'password', message: 'Enter the new password, or keep the current one.' });

    const changes = changesFrom(link, { url, expires, maxClicks: clicks, redirectStatus, passwordChoice, password });
    if (Object.keys(changes).length === 0) return onClose();
    setSaving(true);
    setProblem(null);
    try {
      onSaved(await api.updateLink(link.slug, changes));
    } catch (error) {
      setProblem(formProblem(error, fields));
      setSaving(false);
    }
  }

  const passwordChoices: { value: PasswordChoice; label: string }[] = link.hasPassword
    ? [
        { value: 'keep', label: 'Keep the current password' },
        { value: 'set', label: 'Change it' },
        { value: 'clear', label: 'Remove it' },
      ]
    : [
        { value: 'keep', label: 'No password' },
        { value: 'set', label: 'Require a password' },
      ];

  return (
    <form className={styles.form} onSubmit={save} noValidate>
      <Field name="url" label="Long URL" problem={problem}>
        {(control) => (
          <input
            {...control}
            className="input"
            type="url"
            inputMode="url"
            value={url}
            onChange={(e) => setUrl(e.target.value)}
            data-testid="edit-url-input"
          />
        )}
      </Field>
      <div className={styles.row}>
        <Field name="expiresAt" label="Expires" optional problem={problem} hint="Empty: never">
          {(control) => (
            <input
              {...control}
              className="input"
              type="datetime-local"
              value={expires}
              onChange={(e) => setExpires(e.target.value)}
              data-testid="edit-expires-input"
            />
          )}
        </Field>
        <Field name="maxClicks" label="Max clicks" optional problem={problem} hint="Empty: unlimited">
          {(control) => (
            <input
              {...control}
              className="input"
              type="number"
              inputMode="numeric"
              min={1}
              step={1}
              value={maxClicks}
              onChange={(e) => setMaxClicks(e.target.value)}
              data-testid="edit-max-clicks-input"
            />
          )}
        </Field>
      </div>
      <Field name="redirectStatus" label="Redirect type" problem={problem}>
        {(control) => (
          <RedirectStatusSelect
            control={control}
            value={redirectStatus}
            onChange={setRedirectStatus}
            testId="edit-redirect-status-select"
          />
        )}
      </Field>
      <fieldset className={styles.fieldset}>
        <legend className="label">Password</legend>
        <div className={styles.choices}>
          {passwordChoices.map((choice) => (
            <label key={choice.value} className={styles.choice}>
              <input
                type="radio"
                name="password-choice"
                value={choice.value}
                checked={passwordChoice === choice.value}
                onChange={() => setPasswordChoice(choice.value)}
                data-testid={`password-${choice.value}`}
              />
              {choice.label}
            </label>
          ))}
        </div>
        {passwordChoice === 'set' && (
          <Field name="password" label="New password" problem={problem} hint="4–128 characters">
            {(control) => (
              <input
                {...control}
                className="input"
                type="password"
                autoComplete="new-password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                data-testid="edit-password-input"
              />
            )}
          </Field>
        )}
      </fieldset>
      <FormProblemMessage problem={problem} />
      <div className="dialog-actions">
        <button type="button" className="btn btn-secondary" onClick={onClose} disabled={saving}>
          Cancel
        </button>
        <button type="submit" className="btn btn-primary" disabled={saving} data-testid="edit-submit">
          {saving ? 'Saving…' : 'Save changes'}
        </button>
      </div>
    </form>
  );
}
