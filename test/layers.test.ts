import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkLayers } from '../scripts/check-layers.mjs';

/**
 * The import rules of README.md, held by scripts/check-layers.mjs (npm test runs it before any
 * tier): the repository itself passes, and a small tree with deliberately wrong imports fails
 * with each fault named.
 */

const REPO = new URL('..', import.meta.url).pathname;
const fixture = mkdtempSync(join(tmpdir(), 'ep-layers-'));

afterAll(() => rmSync(fixture, { recursive: true, force: true }));

function write(path: string, text: string): void {
  mkdirSync(dirname(join(fixture, path)), { recursive: true });
  writeFileSync(join(fixture, path), text);
}

const README = `# fixture

<!-- layers: packages -->
| folder | what | may import |
|---|---|---|
| \`schema/\` | shared | \`zod\` |
| \`portal-worker/\` | the portal | \`schema/\`, \`package.json\` |
| \`node-agent/\` | the agent | \`schema/\`, \`node:\` |

<!-- layers: portal-worker/src -->
| folder | what | may import |
|---|---|---|
| \`app.ts\` | top | \`*\` |
| \`domain/\` | commands | \`store/\`, \`core/\` |
| \`store/\` | queries | \`core/\` |
| \`core/\` | shared | — |
`;

describe('the layer check', () => {
  it('passes on this repository: no cycle, no import the README does not allow, no query outside store/', () => {
    const r = checkLayers(REPO);
    expect(r.cycles).toEqual([]);
    expect(r.breaks).toEqual([]);
    expect(r.files).toBeGreaterThan(150);
  });

  it('fails on a deliberately wrong import, a type-only cycle, a foreign package, a file in no row and a query outside store/', () => {
    write('README.md', README);
    write('schema/package.json', JSON.stringify({ exports: { '.': './src/index.ts' }, dependencies: { zod: '*' } }));
    write('schema/src/index.ts', 'export const x = 1;\n');
    write('portal-worker/package.json', JSON.stringify({ dependencies: { hono: '*', '@edgeport/schema': '*' } }));
    write('portal-worker/src/app.ts', "import { Hono } from 'hono';\nimport { run } from './domain/run.ts';\nexport const app = new Hono();\nrun();\n");
    write('portal-worker/src/core/db.ts', 'export interface Db { kysely: unknown }\n');
    // The deliberate break: a store calling up into domain (and, with domain's import, a cycle).
    write('portal-worker/src/store/users.ts', "import type { Db } from '../core/db.ts';\nimport type { Rule } from '../domain/run.ts';\nexport const users = (db: Db, r: Rule) => [db, r];\n");
    write(
      'portal-worker/src/domain/run.ts',
      "import { users } from '../store/users.ts';\nimport type { Db } from '../core/db.ts';\nexport type Rule = string;\nexport const run = (db?: Db) => db?.kysely.selectFrom('users') ?? users;\n",
    );
    write('portal-worker/src/stray.ts', 'export const stray = 1;\n');
    write('node-agent/package.json', JSON.stringify({ dependencies: { ws: '*' } }));
    write('node-agent/src/main.ts', "import { readFileSync } from 'node:fs';\nimport { Hono } from 'hono';\nimport { x } from '@edgeport/schema';\nexport default [readFileSync, Hono, x];\n");

    const r = checkLayers(fixture);
    expect(r.cycles).toEqual([['portal-worker/src/store/users.ts', 'portal-worker/src/domain/run.ts']].map((c) => expect.arrayContaining(c)));
    expect(r.breaks.sort()).toEqual(
      [
        'node-agent/src/main.ts imports hono: node-agent/ may not import `hono`',
        'portal-worker/src/domain/run.ts:4: a query outside store/',
        'portal-worker/src/store/users.ts imports domain/run.ts: `store/` may not import `domain/`',
        'portal-worker/src/stray.ts: in no row of the portal-worker/src table',
      ].sort(),
    );
  });
});
