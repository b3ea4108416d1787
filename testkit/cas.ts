// The admin compare-and-set route as history tests and the chaos runner call it: the request
// body of one operation, and the reply a history records (docs/api.md, Admin).
import type { CasOp, RegisterValue } from '../ring/sim';

export interface CasReply {
  ok?: boolean;
  value?: RegisterValue;
}

/** The body of POST /api/admin/cas/:key for one operation; throws for an operation the route does not offer. */
export function casRequestBody(op: CasOp): Record<string, unknown> {
  if (op.kind === 'read') return { op: 'read' };
  if (op.kind === 'create') return { op: 'create', value: op.value };
  if (op.kind === 'cas') return { op: 'cas', expected: op.expected, value: op.value };
  throw new Error(`casCall: ${op.kind} is not offered by the route`);
}

/** What a history records of a reply: null when the outcome is unknown (anything but a 200). */
export function casReplyOf(op: CasOp, status: number, body: unknown): CasReply | null {
  if (status !== 200) return null;
  const b = (body ?? {}) as CasReply;
  const out: CasReply = {};
  if (b.ok !== undefined) out.ok = b.ok;
  if (op.kind === 'read') out.value = b.value ?? null;
  return out;
}
