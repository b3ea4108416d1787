'use client';

import NextLink from 'next/link';
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, errorMessage, type ApiKey, type NewApiKey } from '../lib/api';
import { formatDateTime } from '../lib/format';
import { ConfirmDialog } from './ConfirmDialog';
import { CopyButton } from './CopyButton';
import { Field, FormError, FormProblemMessage, formProblem, type FormProblem } from './Field';
import { MessageCard } from './MessageCard';
import styles from './ApiKeys.module.css';

type KeysState =
  | { kind: 'loading' }
  | { kind: 'anonymous'; message: string }
  | { kind: 'failed'; message: string }
  | { kind: 'ready'; keys: ApiKey[] };

/** The account's API keys: create one (its secret is shown once), list and revoke. */
export function ApiKeys() {
  const [state, setState] = useState<KeysState>({ kind: 'loading' });
  const [created, setCreated] = useState<NewApiKey | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const [announcement, setAnnouncement] = useState('');

  const load = useCallback(async () => {
    try {
      setState({ kind: 'ready', keys: (await api.listKeys()).keys });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) setState({ kind: 'anonymous', message: error.detail });
      else setState({ kind: 'failed', message: errorMessage(error) });
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  function added(key: NewApiKey) {
    setCreated(key);
    const { key: _secret, ...listed } = key;
    setState((s) => (s.kind === 'ready' ? { kind: 'ready', keys: [listed, ...s.keys] } : s));
  }

  async function revoke(key: ApiKey) {
    await api.revokeKey(key.id);
    setState((s) => (s.kind === 'ready' ? { kind: 'ready', keys: s.keys.filter((k) => k.id !== key.id) } : s));
    if (created?.id === key.id) setCreated(null);
    setAnnouncement(`Revoked ${key.name}`);
  }

  return (
    <div className="page">
      <div className="page-header">
        <div>
          <h1 className="page-title">API keys</h1>
          <p className="page-lead">
            Create links from scripts: send <code>Authorization: Bearer &lt;key&gt;</code> to <code>/api/links</code>.
          </p>
        </div>
      </div>
      <p className="visually-hidden" role="status" aria-live="polite">
        {announcement}
      </p>

      {state.kind === 'anonymous' ? (
        <MessageCard
          title="Sign in to use API keys"
          testId="keys-signin-prompt"
          actions={
            <>
              <NextLink href="/signin" className="btn btn-primary">
                Sign in
              </NextLink>
              <NextLink href="/signup" className="btn btn-secondary">
                Create an account
              </NextLink>
            </>
          }
        >
          <p>API keys belong to accounts. {state.message}</p>
        </MessageCard>
      ) : state.kind === 'failed' ? (
        <div className="card">
          <FormError boxed>{state.message}</FormError>
          <button type="button" className={`btn btn-secondary ${styles.retry}`} onClick={() => void load()}>
            Try again
          </button>
        </div>
      ) : (
        <>
          <NewKeyForm disabled={state.kind !== 'ready'} onCreated={added} />
          {created !== null && <NewKeySecret created={created} onDone={() => setCreated(null)} />}
          {state.kind === 'loading' ? (
            <div className={`card ${styles.skeleton}`} aria-busy="true" aria-label="Loading keys">
              <span className="skeleton" />
              <span className="skeleton" />
            </div>
          ) : state.keys.length === 0 ? (
            <p className={`card ${styles.empty}`} data-testid="keys-empty">
              No keys yet. Name your first one above, after the script or machine that will use it.
            </p>
          ) : (
            <KeysTable keys={state.keys} onRevoke={setRevoking} />
          )}
        </>
      )}

      <ConfirmDialog
        open={revoking !== null}
        title={revoking !== null ? `Revoke “${revoking.name}”?` : 'Revoke key?'}
        confirmLabel="Revoke key"
        onConfirm={() => (revoking !== null ? revoke(revoking) : Promise.resolve())}
        onClose={() => setRevoking(null)}
      >
        <p>Scripts using this key stop working at once. Links created with it stay in your account.</p>
      </ConfirmDialog>
    </div>
  );
}

function NewKeyForm({ disabled, onCreated }: { disabled: boolean; onCreated: (key: NewApiKey) => void }) {
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<FormProblem | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy || disabled) return;
    if (name.trim() === '')
      return setProblem({ field: 'name', message: 'Give the key a name, such as the script that will use it.' });
    setBusy(true);
    setProblem(null);
    try {
      onCreated(await api.createKey(name.trim()));
      setName('');
    } catch (error) {
      setProblem(formProblem(error, ['name']));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className={`card ${styles.createForm}`} onSubmit={submit} noValidate aria-label="Create an API key">
      <div className={styles.createRow}>
        <Field name="name" label="Key name" problem={problem}>
          {(control) => (
            <input
              {...control}
              className="input"
              maxLength={64}
              placeholder="deploy-script"
              autoComplete="off"
              value={name}
              onChange={(e) => setName(e.target.value)}
              data-testid="key-name-input"
            />
          )}
        </Field>
        <button
          type="submit"
          className={`btn btn-primary ${styles.createButton}`}
          disabled={busy || disabled}
          data-testid="create-key-button"
        >
          {busy ? 'Creating…' : 'Create key'}
        </button>
      </div>
      <FormProblemMessage problem={problem} />
    </form>
  );
}

function NewKeySecret({ created, onDone }: { created: NewApiKey; onDone: () => void }) {
  return (
    <section className={`card ${styles.secret}`} aria-labelledby="new-key-title" role="region">
      <h2 id="new-key-title" className="card-title">
        New key “{created.name}”
      </h2>
      <p className={styles.warning} role="alert">
        Copy this key now. It will not be shown again.
      </p>
      <div className={styles.secretRow}>
        <code className={styles.secretValue} data-testid="new-key-value">
          {created.key}
        </code>
        <CopyButton text={created.key} what="API key" testId="copy-key-button" />
      </div>
      <button type="button" className={`btn btn-ghost btn-small ${styles.done}`} onClick={onDone}>
        I have saved it
      </button>
    </section>
  );
}

function KeysTable({ keys, onRevoke }: { keys: readonly ApiKey[]; onRevoke: (key: ApiKey) => void }) {
  return (
    <div className={`card ${styles.tableWrap}`}>
      <table className={styles.table} data-testid="keys-table">
        <caption className="visually-hidden">Your API keys</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Key</th>
            <th scope="col">Created</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {keys.map((key) => (
            <tr key={key.id} data-testid="key-row" data-id={key.id}>
              <td className={styles.name}>{key.name}</td>
              <td>
                <code className={styles.prefix}>{key.prefix}…</code>
              </td>
              <td className={styles.created}>{formatDateTime(key.createdAt)}</td>
              <td className={styles.actions}>
                <button
                  type="button"
                  className={`btn btn-ghost btn-small ${styles.revoke}`}
                  onClick={() => onRevoke(key)}
                  aria-label={`Revoke ${key.name}`}
                  data-testid="revoke-key-button"
                >
                  Revoke
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
