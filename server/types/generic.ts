// Generic data types the cluster runtime is exercised with before the link shortener's
// own types exist: a JSON register and a G-counter. Operators can use them through the
// admin API to check a cluster end to end.
import { gcounterType, type DataTypeRegistry, type RegisterType } from '../../ring';

/** Any JSON value up to the ring's value size limit. */
export const kvType: RegisterType<unknown> = {
  name: 'kv',
  kind: 'register',
  encode: (v) => v,
  decode: (w) => w,
};

export function registerGenericTypes(types: DataTypeRegistry): void {
  types.register(kvType);
  types.register(gcounterType('ctr'));
}
