'use client';

import type { RedirectStatus } from '../lib/api';
import type { ControlProps } from './Field';

export const redirectStatuses: { value: RedirectStatus; label: string }[] = [
  { value: 302, label: '302 · temporary (default)' },
  { value: 301, label: '301 · permanent' },
  { value: 307, label: '307 · temporary, keeps method' },
  { value: 308, label: '308 · permanent, keeps method' },
];

export function RedirectStatusSelect({
  control,
  value,
  onChange,
  testId = 'redirect-status-select',
}: {
  control: ControlProps;
  value: RedirectStatus;
  onChange: (value: RedirectStatus) => void;
  testId?: string;
}) {
  return (
    <select
      {...control}
      className="select"
      name="redirectStatus"
      value={value}
      onChange={(e) => onChange(Number(e.target.value) as RedirectStatus)}
      data-field="redirectStatus"
      data-testid={testId}
    >
      {redirectStatuses.map((status) => (
        <option key={status.value} value={status.value}>
          {status.label}
        </option>
      ))}
    </select>
  );
}
