// A compare-and-set register's operations as CASPaxos change functions. Values are unique
// per operation (callers embed a request id), so finding one's own value means an earlier
// attempt of the same operation already landed: report success, do not apply it twice.
export type RegisterValue = string | null;

export type RegisterCasOp =
  | { kind: 'read' }
  | { kind: 'create'; value: string }
  | { kind: 'cas'; expected: RegisterValue; value: string }
  | { kind: 'write'; value: string };

/**
 * The CAS register's semantics as a change function; values are unique per op, so seeing our own value means our
 * earlier attempt landed.
 */
export function applyCasOp(
  op: RegisterCasOp,
  cur: RegisterValue,
): { next: string | null; result: { ok?: boolean; value?: string | null } } {
  switch (op.kind) {
    case 'read':
      return { next: cur, result: { value: cur } };
    case 'create':
      if (cur === null) return { next: op.value, result: { ok: true } };
      return { next: cur, result: { ok: cur === op.value } };
    case 'cas':
      if (cur === op.expected) return { next: op.value, result: { ok: true } };
      return { next: cur, result: { ok: cur === op.value } };
    case 'write':
      return { next: op.value, result: {} };
  }
}
