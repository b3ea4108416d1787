// ZONE (server/config.ts): optional, validated with one line naming the variable and the rule.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config';

describe('ZONE', () => {
  it('is unset by default, and kept as given when valid', () => {
    expect(loadConfig({}).ZONE).toBeUndefined();
    expect(loadConfig({ ZONE: '' }).ZONE).toBeUndefined();
    expect(loadConfig({ ZONE: 'eu-west-1a' }).ZONE).toBe('eu-west-1a');
    expect(loadConfig({ ZONE: 'rack_2.row-3' }).ZONE).toBe('rack_2.row-3');
  });

  it('refuses other characters and names over 64 characters, saying what it must be', () => {
    for (const bad of ['eu west', 'zone/1', 'z'.repeat(65), 'zône']) {
      expect(() => loadConfig({ ZONE: bad })).toThrow(ConfigError);
      expect(() => loadConfig({ ZONE: bad })).toThrow(/^config: ZONE must be 1-64 characters of A-Z a-z 0-9 \. _ -/);
    }
  });
});
