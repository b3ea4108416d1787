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
  // Owner lists are the ring's secondary index of link documents now (linkType.index); owns/
  // (2P-sets of an owner's slugs) is no longer written, and stays registered only so that data
  // directories and peers from before that still decode their owns/ keys (restore needs the type).
  types.register(twoPhaseSetType('owns'));
  types.register(twoPhaseSetType('keys'));
  types.register(gcounterType('views'));
  types.register(gcounterType('bots'));
  types.register(statsType);
}
