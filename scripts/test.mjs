// `npm test`: installs what the tests need, type-checks, then runs every tier and prints one
// summary line ("N passed, N failed") that CI reads.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianPackages, ensureDependencies, root, run, wranglerEnv } from './lib.mjs';

ensureDependencies();
// Debian tools the tiers use: real wg/wireguard-go and openvpn check the configs the portal makes;
// chromium (driven by playwright-core, never a downloaded browser) renders the pages.
const missing = ensureDebianPackages([
  { pkg: 'wireguard-tools' },
  { pkg: 'wireguard-go' },
  { pkg: 'openvpn' },
  { pkg: 'openssl' },
  { pkg: 'iproute2' },
  { pkg: 'chromium' },
  { pkg: 'fonts-dejavu-core' },
  { pkg: 'iputils-ping' },
]);
if (missing.length) console.warn(`! not root, cannot install: ${missing.join(' ')}; tiers that need them will fail`);

const mariadb = spawnSync('mariadb', ['-h127.0.0.1', '-uroot', '-e', 'select 1'], { encoding: 'utf8' });
if (mariadb.status !== 0) {
  console.error('✗ MariaDB is not reachable at 127.0.0.1:3306 as root (the MySQL-path tests need it).');
  process.exit(1);
}

console.log('• type-checking');
for (const project of ['schema', 'portal-worker', 'node-agent', 'test', 'bench']) run('npx', ['tsc', '-p', `${project}/tsconfig.json`]);
// One formatter and linter for the whole tree (biome.json); `npm run format` fixes the formatting.
console.log('• lint and format check (npm run lint)');
run('npx', ['biome', 'check', '.']);
// README's import rules (its tables marked <!-- layers: … -->): no cycle, no import they do not allow.
console.log('• layers (npm run check:layers)');
run('node', ['scripts/check-layers.mjs']);

const out = mkdtempSync(join(tmpdir(), 'edgeport-test-'));
// Each tier's bound (minutes): a tier past it is killed and counted as failed, with a message.
// vitest's own timeouts cannot fire in a worker whose thread is stuck (the node-agent tier once
// froze inside a crypto call), and CI stops the whole run at 90 minutes without saying where.
const tiers = [
  { name: 'worker (workerd, D1, Durable Objects, MariaDB via PlanetScale driver)', config: 'portal-worker/vitest.config.ts', minutes: 20 },
  { name: 'node agent (its modules; backends against real wg, wireguard-go, openvpn in namespaces)', config: 'node-agent/vitest.config.ts', minutes: 10 },
  { name: 'black-box (Miniflare, MariaDB, real drivers, Chromium)', config: 'test/vitest.config.ts', minutes: 20 },
  // `npm run test:journeys`: the README's and infra/README.md's commands walked as a person walks them.
  { name: 'journeys (npm start in a fresh copy, the pages in Chromium, an app, pings through real tunnels)', script: 'test:journeys', minutes: 15 },
  // `npm run test:e2e` runs this tier alone: real tunnels through real agents, and the failures.
  { name: 'end to end (real tunnels in namespaces, outages)', script: 'test:e2e', minutes: 15 },
];
let passed = 0;
let failed = 0;
let skipped = 0;
let broken = false;
for (const tier of tiers) {
  console.log(`\n• ${tier.name}`);
  const report = join(out, `${tiers.indexOf(tier)}.json`);
  const reporters = ['--reporter=default', '--reporter=json', `--outputFile.json=${report}`];
  const [cmd, args] = tier.script ? ['npm', ['run', '--silent', tier.script, '--', ...reporters]] : ['npx', ['vitest', 'run', '--config', tier.config, ...reporters]];
  // coreutils `timeout` runs the tier in a process group of its own and signals all of it
  // (vitest's workers too): TERM at the bound, KILL 20 s later if anything is still there.
  const r = spawnSync('timeout', ['--kill-after=20', `${tier.minutes}m`, cmd, ...args], {
    cwd: root,
    env: { ...wranglerEnv, FORCE_COLOR: process.env.FORCE_COLOR ?? '0' },
    stdio: 'inherit',
  });
  if (r.status === 124 || r.status === 137) {
    console.error(`\n✗ the ${tier.name} tier did not finish within ${tier.minutes} minutes and was stopped; its report above shows how far it got`);
    failed += 1;
  }
  try {
    const json = JSON.parse(readFileSync(report, 'utf8'));
    passed += json.numPassedTests;
    failed += json.numFailedTests;
    skipped += json.numPendingTests + json.numTodoTests;
  } catch {
    broken = true;
  }
  if (r.status !== 0) broken = true;
}
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(broken || failed > 0 || passed === 0 ? 1 : 0);
