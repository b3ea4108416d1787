// The admin API's own data types (keys kv/<id> and ctr/<id>, server/http/routes/data.ts): a JSON
// register and a G-counter, independent of the link shortener's types. Operators use them to
// check a cluster end to end.
import { DataTypeRegistry, gcounterType, type RegisterType } from '../../ring';

/** Any JSON value up to the ring's value size limit. */
export const kvType: RegisterType<unknown> = {
  name: 'kv',
  kind: 'register',
  encode: (v) => v,
  decode: (w) => w,
};

export function registerKvAndCounterTypes(types: DataTypeRegistry): void {
  types.register(kvType);
  types.register(gcounterType('ctr'));
}
