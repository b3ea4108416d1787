// The shortener's data types, registered with the ring (key namespaces: ./keys.ts).
import { gcounterType } from '../../ring';
import type { DataTypeRegistry } from '../../ring';
import { apiKeyType, sessionType } from '../auth/docs';
import { linkType } from '../links/linkDoc';
import { statsType } from '../links/stats';
import { twoPhaseSetType } from './twoPhaseSet';

export function registerShortenerTypes(types: DataTypeRegistry): void {
  types.register(linkType);
  types.register(sessionType);
  types.register(apiKeyType);
  types.register(twoPhaseSetType('owns'));
  types.register(twoPhaseSetType('keys'));
  types.register(gcounterType('views'));
  types.register(gcounterType('bots'));
  types.register(statsType);
}
