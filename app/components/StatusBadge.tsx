import type { LinkStatus } from '../lib/api';
import { statusLabels } from '../lib/format';

const tone: Record<LinkStatus, string> = {
  active: 'badge badge-success',
  expired: 'badge',
  used_up: 'badge badge-warning',
  deleted: 'badge badge-danger',
};

export function StatusBadge({ status }: { status: LinkStatus }) {
  return (
    <span className={tone[status]} data-testid="status-badge" data-status={status}>
      {statusLabels[status]}
    </span>
  );
}
