// `npm run check:layers` (and the first step of `npm test`): the import rules of README.md, held.
// The README's two tables marked `<!-- layers: … -->` are the one source of the rules: each row
// names a unit (a package, or a folder or file of portal-worker/src) and, in backticks in its
// last column, what it may import. Fails on any import cycle between source files (type-only
// imports included: they are how layers leak) and on any import a row does not allow.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const PACKAGES = { 'schema/': 'schema/src', 'portal-worker/': 'portal-worker/src', 'node-agent/': 'node-agent/src' };
const SOURCE = /\.(ts|tsx|mts|mjs)$/;

/** The backticked tokens of a table cell. */
const ticks = (cell) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1].trim());

/** Rows of the table that follows `<!-- layers: name -->`: [units, allowed][]. */
export function rulesTable(readme, name) {
  const at = readme.indexOf(`<!-- layers: ${name} -->`);
  if (at < 0) throw new Error(`README.md has no table marked <!-- layers: ${name} -->`);
  const rows = [];
  for (const line of readme.slice(at).split('\n').slice(1)) {
    if (!line.trim()) {
      if (rows.length) break;
      continue;
    }
    if (!line.startsWith('|')) break;
    const cells = line.split('|').slice(1, -1);
    if (cells.length < 2 || /^\s*-+\s*$/.test(cells[0]) || !ticks(cells[0]).length) continue;
    rows.push({ units: ticks(cells[0]), allowed: ticks(cells[cells.length - 1]) });
  }
  if (!rows.length) throw new Error(`the table marked <!-- layers: ${name} --> has no rows`);
  return rows;
}

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (SOURCE.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Every import specifier of a file, type-only and dynamic ones included (TypeScript's own pre-parser). */
function specifiers(file) {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles.map((f) => f.fileName);
}

function resolveRelative(from, spec, files) {
  const base = resolve(dirname(from), spec);
  for (const c of [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, `${base}.tsx`, join(base, 'index.ts')]) if (files.has(c)) return c;
  return null;
}

/** `@edgeport/schema/ip` → schema/src/ip.ts, per the schema package's exports map. */
function resolveWorkspace(root, spec, files) {
  const m = /^@edgeport\/schema(\/.*)?$/.exec(spec);
  if (!m) return null;
  const exports = JSON.parse(readFileSync(join(root, 'schema/package.json'), 'utf8')).exports;
  const target = exports[`.${m[1] ?? ''}`];
  const file = target && resolve(root, 'schema', target);
  return file && files.has(file) ? file : null;
}

/** The npm package a bare specifier names (`hono/jsx` → `hono`, `@scope/x/y` → `@scope/x`), or `node:` / `cloudflare:`. */
function packageOf(spec) {
  if (spec.startsWith('node:') || builtinModules.includes(spec.split('/')[0])) return 'node:';
  if (spec.startsWith('cloudflare:')) return 'cloudflare:';
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Strongly connected components with more than one file (or a file importing itself): the cycles. */
export function cycles(graph) {
  let index = 0;
  const stack = [];
  const on = new Set();
  const idx = new Map();
  const low = new Map();
  const out = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const scc = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? new Set()).has(v)) out.push(scc.reverse());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

/** The unit (longest matching row) a path inside portal-worker/src belongs to. */
function unitOf(path, units) {
  let best = null;
  for (const u of units) if ((u.endsWith('/') ? path.startsWith(u) : path === u) && (!best || u.length > best.length)) best = u;
  return best;
}

const allows = (allowed, target, targetUnit) => allowed.includes('*') || allowed.includes(targetUnit) || allowed.includes(target);

const sourceFiles = (root) => new Set(Object.values(PACKAGES).flatMap((d) => walk(join(root, d))));

/** The import graph of the three packages' sources (file → the files it imports), type-only imports included. */
export function importGraph(root) {
  const files = sourceFiles(root);
  const graph = new Map([...files].map((f) => [f, new Set()]));
  for (const file of files) {
    for (const spec of specifiers(file)) {
      const target = spec.startsWith('.') ? resolveRelative(file, spec, files) : resolveWorkspace(root, spec, files);
      if (target) graph.get(file).add(target);
    }
  }
  return graph;
}

/** Every file `file` drags in, directly or not. */
export function reach(graph, file) {
  const seen = new Set();
  const stack = [file];
  while (stack.length) for (const next of graph.get(stack.pop()) ?? []) if (!seen.has(next)) seen.add(next), stack.push(next);
  return seen;
}

/** Checks the tree at `root`; returns the findings and the graph's size. */
export function checkLayers(root) {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const packageRules = new Map(rulesTable(readme, 'packages').flatMap((r) => r.units.map((u) => [u, r.allowed])));
  const srcRows = rulesTable(readme, 'portal-worker/src');
  const srcRules = new Map(srcRows.flatMap((r) => r.units.map((u) => [u, r.allowed])));
  const srcUnits = [...srcRules.keys()];

  const files = sourceFiles(root);
  const packageOfFile = (f) => Object.entries(PACKAGES).find(([, d]) => f.startsWith(join(root, d) + '/'))?.[0];
  const graph = new Map([...files].map((f) => [f, new Set()]));
  const breaks = [];
  let edges = 0;

  for (const file of files) {
    const pkg = packageOfFile(file);
    const rel = relative(root, file);
    const allowedPkgs = packageRules.get(pkg) ?? [];
    const declared = Object.keys(JSON.parse(readFileSync(join(root, pkg, 'package.json'), 'utf8')).dependencies ?? {});
    const inSrc = pkg === 'portal-worker/' ? relative(join(root, PACKAGES[pkg]), file) : null;
    const fromUnit = inSrc === null ? null : unitOf(inSrc, srcUnits);
    if (inSrc !== null && !fromUnit) breaks.push(`${rel}: in no row of the portal-worker/src table`);
    for (const spec of specifiers(file)) {
      const target = spec.startsWith('.') ? resolveRelative(file, spec, files) : resolveWorkspace(root, spec, files);
      if (target) {
        graph.get(file).add(target);
        edges++;
        const targetPkg = packageOfFile(target);
        if (targetPkg !== pkg && !allowedPkgs.includes(targetPkg)) breaks.push(`${rel} imports ${relative(root, target)}: ${pkg} may not import ${targetPkg}`);
        if (fromUnit && targetPkg === pkg) {
          const to = relative(join(root, PACKAGES[pkg]), target);
          const toUnit = unitOf(to, srcUnits);
          if (toUnit !== fromUnit && !allows(srcRules.get(fromUnit) ?? [], to, toUnit)) breaks.push(`${rel} imports ${to}: \`${fromUnit}\` may not import \`${toUnit ?? to}\``);
        }
        continue;
      }
      if (spec.startsWith('.')) {
        // A data file next to the code (node-agent/src/version.ts reads its package.json) is no layer.
        if (!SOURCE.test(spec) && existsSync(resolve(dirname(file), spec))) continue;
        breaks.push(`${rel} imports ${spec}: no such file`);
        continue;
      }
      const name = packageOf(spec);
      const ok = allowedPkgs.includes(name) || (allowedPkgs.includes('package.json') && declared.includes(name));
      if (!ok) breaks.push(`${rel} imports ${spec}: ${pkg} may not import \`${name}\``);
    }
  }
  // store/ holds every query (and db/ the dialects): a layer above that builds SQL itself has
  // gone around the store, which the import rules alone cannot see (the Db port is in core/).
  for (const file of files) {
    if (packageOfFile(file) !== 'portal-worker/') continue;
    const inSrc = relative(join(root, PACKAGES['portal-worker/']), file);
    if (inSrc.startsWith('store/') || inSrc.startsWith('db/')) continue;
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (/\.kysely\b/.test(line) && !/^\s*(\/\/|\*)/.test(line)) breaks.push(`${relative(root, file)}:${i + 1}: a query outside store/`);
    });
  }
  const found = cycles(graph).map((scc) => scc.map((f) => relative(root, f)));
  return { files: files.size, edges, cycles: found, breaks };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = resolve(process.argv[2] ?? new URL('..', import.meta.url).pathname);
  const r = checkLayers(root);
  for (const c of r.cycles) console.log(`cycle: ${c.join(' → ')} → ${c[0]}`);
  for (const b of r.breaks) console.log(`rule: ${b}`);
  console.log(`layers: ${r.files} files, ${r.edges} imports, ${r.cycles.length} cycles, ${r.breaks.length} rule breaks`);
  process.exit(r.cycles.length || r.breaks.length ? 1 : 0);
}
