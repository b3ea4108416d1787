// The evidence folders depend in one direction only: tests/, bench/ and chaos/ import testkit/
// (the one launcher of real nodes), tests/ may import chaos/ (to test its checkers), and
// nothing else crosses: bench/ and chaos/ never import tests/, testkit/ imports none of them.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { expect, it } from 'vitest';
import { root } from '../../testkit';

/** Which top-level folders each folder must not import from. */
const forbidden: Record<string, string[]> = {
  testkit: ['tests', 'bench', 'chaos'],
  bench: ['tests', 'chaos'],
  chaos: ['tests', 'bench'],
};

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== 'results' && !e.name.startsWith('.')) out.push(...sources(p));
    } else if (/\.(ts|tsx|mts|mjs|js)$/.test(e.name)) out.push(p);
  }
  return out;
}

it('bench/, chaos/ and testkit/ import nothing they must not (tests/ is imported by none of them)', () => {
  const crossings: string[] = [];
  for (const [folder, banned] of Object.entries(forbidden)) {
    for (const file of sources(join(root, folder))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
        const target = relative(root, resolve(dirname(file), m[1]!));
        const top = target.split(sep)[0]!;
        if (banned.includes(top)) crossings.push(`${relative(root, file)} imports ${m[1]}`);
      }
    }
  }
  expect(crossings).toEqual([]);
});
