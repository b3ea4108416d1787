'use client';

import { useId, type ReactNode } from 'react';
import { ApiError, errorMessage } from '../lib/api';

/** What went wrong with a form: next to `field` when it names one of the form's inputs. */
export interface FormProblem {
  field: string | null;
  message: string;
}

/** Turns a thrown error into a FormProblem, keeping `field` only when this form has it. */
export function formProblem(error: unknown, fields: readonly string[]): FormProblem {
  const field =
    error instanceof ApiError && error.field !== undefined && fields.includes(error.field) ? error.field : null;
  return { field, message: errorMessage(error) };
}

export interface ControlProps {
  id: string;
  'aria-describedby': string | undefined;
  'aria-invalid': true | undefined;
}

/** A label, its control, an optional hint and the error for this field, wired for assistive tech. */
export function Field({
  name,
  label,
  optional = false,
  hint,
  problem,
  children,
}: {
  name: string;
  label: string;
  optional?: boolean;
  hint?: ReactNode;
  problem: FormProblem | null;
  children: (control: ControlProps) => ReactNode;
}) {
  const id = `${useId()}-${name}`;
  const hintId = hint !== undefined ? `${id}-hint` : undefined;
  const error = problem !== null && problem.field === name ? problem.message : null;
  const errorId = error !== null ? `${id}-error` : undefined;
  const describedBy = [errorId, hintId].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={id} className="label">
        {label}
        {optional && <span className="label-optional"> (optional)</span>}
      </label>
      {children({ id, 'aria-describedby': describedBy, 'aria-invalid': error !== null ? true : undefined })}
      {error !== null && <FormError id={errorId}>{error}</FormError>}
      {hint !== undefined && (
        <p id={hintId} className="hint">
          {hint}
        </p>
      )}
    </div>
  );
}

/** The one error a form shows at a time; `role="alert"` announces it when it appears. */
export function FormError({
  id,
  children,
  boxed = false,
}: {
  id?: string | undefined;
  children: ReactNode;
  boxed?: boolean;
}) {
  return (
    <p id={id} role="alert" className={`field-error${boxed ? ' form-error' : ''}`} data-testid="form-error">
      {children}
    </p>
  );
}

/** Shows the problem when it belongs to no field of the form (network, rate limit, ...). */
export function FormProblemMessage({ problem }: { problem: FormProblem | null }) {
  if (problem === null || problem.field !== null) return null;
  return <FormError boxed>{problem.message}</FormError>;
}
