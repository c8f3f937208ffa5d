// `npm start`: the portal on the embedded default (local D1 in .data/), and on the first run an
// administrator, a default profile and the local node serving it: ready for an app.
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isStopping, runChild, startChild, stopAll, stopChildrenOnExit } from './children.mjs';
import { ensureDependencies, root, wranglerEnv } from './lib.mjs';
import { setUpLocalNode, startLocalNode } from './local-node.mjs';
import { publicHost } from './quick-start.mjs';

const PORT = Number(process.env.PORT ?? 8787);
const ORIGIN = `http://127.0.0.1:${PORT}`;
const DATA = join(root, '.data');

// Before any child exists: from here on a signal stops whatever has been started.
stopChildrenOnExit();
ensureDependencies();
mkdirSync(DATA, { recursive: true });

// The portal's own secrets, made once and kept with the data (a deployment keeps them as
// Worker secrets instead). Files are 0600 and passed by path, never on the command line.
const secretsFile = join(DATA, 'secrets.env');
if (!existsSync(secretsFile)) {
  const made = spawnSync('npx', ['tsx', 'scripts/secrets.ts'], { cwd: root, encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`could not make the portal secrets: ${made.stderr}`);
  writeFileSync(secretsFile, made.stdout, { mode: 0o600 });
}
// A fresh setup token each run: it only works while no account exists, so it is useless after first run.
const setupToken = randomBytes(24).toString('base64url');
const runFile = join(DATA, 'run.env');
writeFileSync(runFile, `SETUP_TOKEN=${setupToken}\n`, { mode: 0o600 });
// In its own process group: wrangler starts workerd as a child, and stopping the group leaves nothing behind.
const wrangler = startChild(
  'npx',
  ['wrangler', 'dev', '--ip', '127.0.0.1', '--port', String(PORT), '--persist-to', DATA, '--env-file', secretsFile, '--env-file', runFile, '--show-interactive-dev-session=false'],
  { cwd: root, env: wranglerEnv, stdio: ['ignore', 'inherit', 'inherit'] },
  true,
);
wrangler.once('exit', (code) => {
  if (isStopping()) return;
  console.error(`wrangler dev exited (${code}). Is port ${PORT} already in use? Set PORT=… to choose another.`);
  stopAll().then(() => process.exit(code ?? 1));
});

async function waitForHealth() {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`${ORIGIN}/health`);
      if (r.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`the portal did not answer ${ORIGIN}/health within 90 s`);
}

await waitForHealth();
const password = randomBytes(15).toString('base64url');
const r = await fetch(`${ORIGIN}/setup`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ token: setupToken, user: 'admin', password }),
});
const firstRun = r.status === 201;
console.log('\n────────────────────────────────────────────────────────');
console.log(`Edgeport portal: ${ORIGIN}/   (data in ${DATA}; back it up by copying the folder)`);
if (firstRun) {
  console.log('First run: an administrator was created. Shown once, keep it safe:');
  console.log(`  user:     admin\n  password: ${password}`);
} else if (r.status === 409) {
  console.log('Sign in with the administrator created on the first run (delete the data folder to start over).');
} else {
  console.log(`First-run setup failed: HTTP ${r.status} ${await r.text()}`);
}
const build = await runChild('npm', ['run', 'build', '-w', 'node-agent'], { cwd: root });
if (build.code !== 0) {
  console.log(`Local node: the agent did not build (exit ${build.code}):\n${build.stderr}`);
} else {
  const node = firstRun ? await setUpLocalNode(ORIGIN, DATA, password, publicHost()) : null;
  await startLocalNode(ORIGIN, DATA, node);
}
console.log('────────────────────────────────────────────────────────\n');
