// Next's configuration is the top-level next.config.js that the design names: plain JavaScript
// checked by TypeScript through JSDoc, loaded by Next as is, and everything that names the file
// (the Dockerfile, the build's staleness check, the UI's tsconfig) names that one.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

describe('next.config.js', () => {
  it('is the only Next config, type-checked through JSDoc', () => {
    expect(existsSync(join(root, 'next.config.ts'))).toBe(false);
    const source = read('next.config.js');
    expect(source.startsWith('// @ts-check\n')).toBe(true);
    expect(source).toContain("/** @type {import('next').NextConfig} */");
    expect(JSON.parse(read('tsconfig.next.json')).include).toContain('next.config.js');
  });

  it('keeps the settings the custom server relies on', async () => {
    const { default: config } = (await import(pathToFileURL(join(root, 'next.config.js')).href)) as {
      default: Record<string, unknown>;
    };
    expect(config).toEqual({
      reactStrictMode: true,
      poweredByHeader: false,
      typescript: { tsconfigPath: 'tsconfig.next.json' },
    });
  });

  it('every file the Dockerfile copies from the build stage by name exists, and the build watches the config', () => {
    const copied = [...read('Dockerfile').matchAll(/^COPY --from=build (.+) \S+$/gm)].flatMap((m) =>
      m[1]!.split(/\s+/),
    );
    const named = copied.filter((p) => /\.(js|ts|json)$/.test(p)).map((p) => p.replace(/^\/app\//, ''));
    expect(named).toContain('next.config.js');
    for (const path of named) expect(existsSync(join(root, path)), path).toBe(true);
    expect(read('scripts/build.mjs')).toContain("'next.config.js'");
  });
});
