// Shared by scripts/start.mjs and scripts/test.mjs: plain Node, no dependencies, because these
// run before `npm ci` has installed anything.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const root = new URL('..', import.meta.url).pathname;

/** Offline-safe wrangler: no metrics, no cf-fetch (this machine has no internet). */
export const wranglerEnv = {
  ...process.env,
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  WRANGLER_SEND_METRICS: 'false',
};

export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, env: wranglerEnv, ...opts });
  if (r.status !== 0) {
    console.error(`\n✗ ${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
}

/** Installs dependencies when they are missing or older than the lock file. */
export function ensureDependencies() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  console.log('• installing dependencies (npm ci)…');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

/** The Debian packages the test tiers use; installed only when running as root and missing. */
export function ensureDebianPackages(packages) {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax, not a template.
  const missing = packages.filter((p) => spawnSync('dpkg-query', ['-W', '-f=${Status}', p.pkg], { encoding: 'utf8' }).stdout?.includes('install ok installed') !== true);
  if (!missing.length) return [];
  if (process.getuid?.() !== 0) return missing.map((p) => p.pkg);
  console.log(`• installing Debian packages: ${missing.map((p) => p.pkg).join(' ')}`);
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing.map((p) => p.pkg)], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return [];
}
