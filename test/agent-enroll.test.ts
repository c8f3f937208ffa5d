import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpBrowser } from './support/browser.ts';
import { SETUP_TOKEN, startPortal, type Portal } from './support/portal.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const AGENT = join(ROOT, 'node-agent/dist/edgeport-agent.mjs');
const run = promisify(execFile);
let portal: Portal;
let admin: HttpBrowser;
const dir = mkdtempSync(join(tmpdir(), 'ep-enroll-'));

beforeAll(async () => {
  // The agent as it ships: the bundled file systemd runs.
  execFileSync('npm', ['run', 'build', '-w', 'node-agent'], { cwd: ROOT, stdio: 'ignore' });
  portal = await startPortal();
  await fetch(`${portal.origin}/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: SETUP_TOKEN, user: 'admin', password: 'enrollment admin password' }),
  });
  admin = new HttpBrowser(portal.origin);
  expect((await admin.login('admin', 'enrollment admin password')).status).toBe(303);
  expect((await admin.api('POST', '/admin/api/nodes', { id: 'node1', name: 'node1', host_name: 'node1.example.org' })).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await portal?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('edgeport-agent enroll', () => {
  it('stores the credential 0600 from a one-time token, and refuses the token a second time', async () => {
    const r = await admin.api('POST', '/admin/api/nodes/node1/enrollment');
    const { command, token } = await r.json();
    // The admin copies this command; run it as printed, against this portal.
    const args = (command as string).split(' ').slice(1);
    const file = join(dir, 'node-credential');
    const first = await run('node', [AGENT, ...args, '--credential-file', file]);
    expect(JSON.parse(first.stdout)).toMatchObject({ level: 'info', msg: 'enrolled', node: 'node1' });
    expect(first.stdout).not.toContain('epn_');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toMatch(/^epn_[\w-]{43}\n$/);

    const again = await run('node', [AGENT, 'enroll', '--portal', portal.origin, '--node', 'node1', '--token', token, '--credential-file', join(dir, 'second')]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(again).toMatchObject({ code: 1 });
    expect((again as { stderr: string }).stderr).toContain('enrollment refused (HTTP 401)');
  });

  it('refuses a plain-http portal that is not on loopback, naming the option', async () => {
    const r = await run('node', [AGENT, 'enroll', '--portal', 'http://portal.example.org', '--node', 'node1', '--token', 'x']).catch((e: { code: number; stderr: string }) => e);
    expect(r).toMatchObject({ code: 2 });
    expect((r as { stderr: string }).stderr).toContain('--portal must be https');
  });
});
