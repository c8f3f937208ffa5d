/**
 * The OpenVPN backend against real `openvpn` servers and clients in a network namespace this file
 * creates: admission on the management socket, events, status, HALT, selective restarts,
 * supervision and adoption by a later agent. Needs root, openvpn, openssl and iproute2.
 */
import '@abraham/reflection';
import { randomBytes, type webcrypto } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProfileOnNode } from '@edgeport/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCa, issueClientCertificate, issueServerCertificate, loadCa, type Ca, type IssuedPem } from '../../portal-worker/src/vpn/ca.ts';
import { generateTlsCryptKey, openvpnClientConfig } from '../../portal-worker/src/vpn/openvpn-config.ts';
import type { Logger, OpenvpnBackend, OpenvpnEvent, OpenvpnProcessSpec } from '../src/backends/types.ts';
import { createOpenvpnBackend } from '../src/openvpn/backend.ts';
import { serverProcesses } from '../src/openvpn/server-config.ts';
import { createRunner } from '../src/wireguard/run.ts';
import { exitWithin, spawnHelper, stopHelper, within, type Helper } from './support/process.ts';
import { onHardHang } from './support/watchdog.ts';

// The portal's CA module names the WebCrypto key types as globals (Workers and DOM have them);
// this workspace compiles without DOM, where @types/node keeps them under `crypto.webcrypto`.
declare global {
  type CryptoKey = webcrypto.CryptoKey;
  type CryptoKeyPair = webcrypto.CryptoKeyPair;
}

const runner = createRunner();
/** execFile's shape on the bounded runner: a command that hangs is killed and named (30 s). */
const run = async (file: string, args: string[]) => ({ stdout: await runner([file, ...args]) });
const netns = `ep-ovpn-${randomBytes(3).toString('hex')}`;
const PORTS = [11940, 11941, 11942] as const;
const notAfter = new Date(Date.now() + 86_400_000);

let dir = '';
let runDir = '';
let stateDir = '';
let ca: Ca;
let tlsCrypt = '';
let serverCert = '';
const certs: Record<string, IssuedPem> = {};
const clientProcs: Helper[] = [];
const backends: OpenvpnBackend[] = [];

const logs: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
const logger: Logger = {
  info: (msg, fields = {}) => logs.push({ level: 'info', msg, fields }),
  warn: (msg, fields = {}) => logs.push({ level: 'warn', msg, fields }),
  error: (msg, fields = {}) => logs.push({ level: 'error', msg, fields }),
};
const events: OpenvpnEvent[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntil<T>(what: string | (() => string), probe: () => T | Promise<T>, ms = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}; backend log:\n${logs.map((l) => JSON.stringify(l)).join('\n')}`);
    await sleep(50);
  }
}

function profile(udpPorts: number[]): ProfileOnNode {
  return {
    id: 'p1',
    display_name: 'Profile one',
    default_gateway: false,
    dns_servers: [],
    dns_search_domains: [],
    routes: ['10.200.0.0/16'],
    exclude_routes: [],
    wireguard: null,
    openvpn: { range_four: '10.77.0.0/24', range_six: 'fd77::/64', udp_ports: udpPorts, tcp_ports: [], tls_crypt_key: tlsCrypt },
  };
}

function specsFor(udpPorts: number[]): OpenvpnProcessSpec[] {
  return serverProcesses(profile(udpPorts), {
    firstTun: 0,
    caCert: ca.certPem,
    serverCert,
    serverKeyPath: join(dir, 'server.key'),
    runDir,
    preferAes: true,
    listenOn: '127.0.0.1',
  });
}

interface Client {
  h: Helper;
  log(): string;
}

// A refused or halted client ends by itself within seconds; this bounds a wait for one that does not.
const CLIENT_EXIT_MS = 20_000;
/** The client's exit code; it is killed and the wait rejects if it does not end in time. */
const exitOf = async (c: Client) => (await exitWithin(c.h, CLIENT_EXIT_MS)).code;

/** A real OpenVPN client in the namespace, with the portal's client config pointed at one port. */
async function startClient(name: string, port: number): Promise<Client> {
  const cert = certs[name];
  if (!cert) throw new Error(`no certificate ${name}`);
  const config = openvpnClientConfig({
    portalUrl: 'https://vpn.example.org/',
    profile: { id: 'p1', display_name: 'Profile one' },
    expiresAt: notAfter,
    host: '127.0.0.1',
    udpPorts: [port],
    tcpPorts: [],
    preferTcp: false,
    caPem: ca.certPem,
    certPem: cert.certPem,
    keyPem: cert.keyPem,
    tlsCrypt,
    random: () => 0,
  });
  const file = join(dir, `${name}-${port}.ovpn`);
  await writeFile(file, config, { mode: 0o600 });
  const h = spawnHelper(`openvpn client ${name} on port ${port}`, ['ip', 'netns', 'exec', netns, 'openvpn', '--config', file]);
  clientProcs.push(h);
  return { h, log: () => h.output() };
}

async function up(c: Client): Promise<void> {
  await waitUntil(
    () => `Initialization Sequence Completed; client log:\n${c.log()}`,
    () => {
      if (/Initialization Sequence Completed/.test(c.log())) return true;
      if (c.h.exit() !== null) throw new Error(`client exited:\n${c.log()}`);
      return false;
    },
  );
}

async function stopClient(c: Client): Promise<void> {
  await stopHelper(c.h);
}

const pidOf = async (name: string) => Number.parseInt(await readFile(join(runDir, `${name}.pid`), 'utf8'), 10);
/** Alive and still OpenVPN (a zombie or a reused pid is not). */
async function alive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return readFile(`/proc/${pid}/cmdline`, 'utf8').then(
    (t) => t.includes('openvpn'),
    () => false,
  );
}

function newBackend(): OpenvpnBackend {
  const b = createOpenvpnBackend({ runDir, stateDir, logger, netns });
  b.onEvent((e) => events.push(e));
  backends.push(b);
  return b;
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('network namespaces and tun devices need root');
  for (const tool of ['openvpn', 'openssl', 'ip']) await run('sh', ['-c', `command -v ${tool}`]);
  // Should the worker hang for good (afterAll never runs), the watchdog ends every process in the
  // namespace (servers and clients alike), then the namespace; registered first, undone last.
  onHardHang({ argv: ['ip', 'netns', 'del', netns] });
  onHardHang({ argv: ['sh', '-c', `ip netns pids ${netns} | xargs -r kill -9`] });
  dir = await mkdtemp(join(tmpdir(), 'ep-ovpn-'));
  onHardHang({ path: dir });
  runDir = join(dir, 'run');
  stateDir = join(dir, 'state');
  await run('ip', ['netns', 'add', netns]);
  await run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);

  const stored = await createCa({ commonName: 'Edgeport test CA', notAfter });
  ca = await loadCa(stored.certPem, stored.keyPkcs8Pem);
  // The node's own key, made by openssl and kept in a 0600 file; the portal signs its CSR.
  const keyPath = join(dir, 'server.key');
  await run('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', keyPath]);
  await chmod(keyPath, 0o600);
  const { stdout: csrPem } = await run('openssl', ['req', '-new', '-key', keyPath, '-subj', '/CN=node0', '-outform', 'PEM']);
  serverCert = (await issueServerCertificate(ca, { csrPem, commonName: 'node0.example.org', profileId: 'p1', notAfter })).certPem;
  tlsCrypt = generateTlsCryptKey();
  // alice and erin are allowed on p1; mallory is unknown; carol's certificate was issued for p2
  // although the allowed set says p1; dave's certificate says p1 but the allowed set says p2.
  for (const [cn, ou] of [
    ['alice', 'p1'],
    ['erin', 'p1'],
    ['mallory', 'p1'],
    ['carol', 'p2'],
    ['dave', 'p1'],
  ] as const) {
    certs[cn] = await issueClientCertificate(ca, { commonName: cn, profileId: ou, notAfter });
  }
});

afterAll(async () => {
  const errors: unknown[] = [];
  const attempt = (work: () => Promise<unknown>) => work().catch((e: unknown) => errors.push(e));
  // close(true) gives each server 5 s after SIGTERM; the bound is for a close that never ends.
  for (const b of backends) await attempt(() => within(b.close(true), 30_000, () => 'backend.close(true) did not finish within 30 s'));
  for (const h of clientProcs) await attempt(() => stopHelper(h, 2_000));
  // Whatever a failed test left running: every server this file started has a pid file.
  const pidFiles = runDir ? await readdir(runDir).catch((): string[] => []) : [];
  for (const f of pidFiles.filter((f) => f.endsWith('.pid'))) {
    const pid = Number.parseInt(await readFile(join(runDir, f), 'utf8'), 10);
    if (await alive(pid)) await attempt(async () => process.kill(pid, 'SIGKILL'));
  }
  await sleep(200);
  await attempt(() => run('ip', ['netns', 'del', netns]));
  if (dir) await attempt(() => rm(dir, { recursive: true, force: true }));
  const { stdout } = await run('ip', ['netns', 'list']);
  expect(stdout).not.toContain(netns);
  if (errors.length) throw new AggregateError(errors, `cleanup failed: ${errors.map(String).join('; ')}`);
}, 60_000);

describe('OpenVPN backend with real servers and clients', () => {
  let backend: OpenvpnBackend;
  let alice: Client;
  let erin: Client;

  it('starts one server per spec, with 0600 configs and a tun device each, idempotently', async () => {
    backend = newBackend();
    await backend.setAllowed(
      new Map([
        ['alice', 'p1'],
        ['erin', 'p1'],
        ['carol', 'p1'],
        ['dave', 'p2'],
      ]),
    );
    const specs = specsFor([PORTS[0], PORTS[1]]);
    expect(specs.map((s) => s.name)).toEqual(['p1-0', 'p1-1']);
    await backend.ensureProcesses(specs);

    for (const name of ['p1-0', 'p1-1']) {
      expect((await stat(join(runDir, `${name}.conf`))).mode & 0o777).toBe(0o600);
      expect(await readFile(join(runDir, `${name}.conf`), 'utf8')).toBe(specs.find((s) => s.name === name)?.config);
      expect(await alive(await pidOf(name))).toBe(true);
    }
    expect((await stat(runDir)).mode & 0o777).toBe(0o700);
    const { stdout: links } = await run('ip', ['-n', netns, '-o', 'link', 'show']);
    expect(links).toMatch(/: tun0: /);
    expect(links).toMatch(/: tun1: /);

    const pids = [await pidOf('p1-0'), await pidOf('p1-1')];
    await backend.ensureProcesses(specs);
    expect([await pidOf('p1-0'), await pidOf('p1-1')]).toEqual(pids);
    expect(logs.filter((l) => l.msg === 'openvpn: server started')).toHaveLength(2);
    expect(await backend.clients()).toEqual([]);
  });

  it('admits allowed certificate-only clients, reports their connects and lists them across processes', async () => {
    alice = await startClient('alice', PORTS[0]);
    erin = await startClient('erin', PORTS[1]);
    await up(alice);
    await up(erin);
    expect(alice.log()).toMatch(/PUSH: Received control message: 'PUSH_REPLY,.*route 10\.200\.0\.0 255\.255\.0\.0/);
    const connect = await waitUntil('connect event', () => events.find((e) => e.event === 'connect' && e.commonName === 'alice'));
    expect(connect).toEqual({ event: 'connect', at: expect.any(Number), profileId: 'p1', commonName: 'alice', ipFour: '10.77.0.2', ipSix: 'fd77::2', originatingIp: '127.0.0.1' });
    expect(Math.abs(connect.at - Date.now() / 1000)).toBeLessThan(30);
    const erinConnect = await waitUntil('connect event', () => events.find((e) => e.event === 'connect' && e.commonName === 'erin'));
    // The second process has the second half of the v4 range and the second /112.
    expect([erinConnect.ipFour, erinConnect.ipSix]).toEqual(['10.77.0.130', 'fd77::1:2']);

    const list = (await backend.clients()).sort((a, b) => a.process.localeCompare(b.process));
    expect(list).toEqual([
      {
        process: 'p1-0',
        profileId: 'p1',
        cid: expect.any(Number),
        commonName: 'alice',
        ipFour: '10.77.0.2',
        ipSix: 'fd77::2',
        rx: expect.any(Number),
        tx: expect.any(Number),
        connectedSince: expect.any(Number),
        realAddress: '127.0.0.1',
      },
      {
        process: 'p1-1',
        profileId: 'p1',
        cid: expect.any(Number),
        commonName: 'erin',
        ipFour: '10.77.0.130',
        ipSix: 'fd77::1:2',
        rx: expect.any(Number),
        tx: expect.any(Number),
        connectedSince: expect.any(Number),
        realAddress: '127.0.0.1',
      },
    ]);
    expect(list[0]?.rx).toBeGreaterThan(0);
    expect(Math.abs((list[0]?.connectedSince ?? 0) - Date.now() / 1000)).toBeLessThan(30);
  });

  it('refuses a valid certificate whose CN is not in the allowed set', async () => {
    const mallory = await startClient('mallory', PORTS[0]);
    await waitUntil('AUTH_FAILED', () => /AUTH_FAILED/.test(mallory.log()));
    await exitOf(mallory);
    expect(mallory.log()).not.toMatch(/Initialization Sequence Completed/);
    expect(logs).toContainEqual({ level: 'info', msg: 'openvpn: client refused', fields: { process: 'p1-0', commonName: 'mallory', reason: 'unknown certificate' } });
    expect(events.some((e) => e.commonName === 'mallory')).toBe(false);
  });

  it('refuses a certificate issued for another profile, and a CN allowed only on another profile', async () => {
    const carol = await startClient('carol', PORTS[1]);
    const dave = await startClient('dave', PORTS[0]);
    for (const c of [carol, dave]) {
      await waitUntil('AUTH_FAILED', () => /AUTH_FAILED/.test(c.log()));
      await exitOf(c);
      expect(c.log()).not.toMatch(/Initialization Sequence Completed/);
    }
    expect(logs).toContainEqual({ level: 'info', msg: 'openvpn: client refused', fields: { process: 'p1-1', commonName: 'carol', reason: 'certificate OU does not name this profile' } });
    expect(logs).toContainEqual({ level: 'info', msg: 'openvpn: client refused', fields: { process: 'p1-0', commonName: 'dave', reason: 'certificate is for profile p2' } });
    expect(events.filter((e) => e.commonName === 'carol' || e.commonName === 'dave')).toEqual([]);
    expect((await backend.clients()).map((c) => c.commonName).sort()).toEqual(['alice', 'erin']);
  });

  it('reports a disconnect with byte counts when a client stops', async () => {
    await stopClient(erin);
    const gone = await waitUntil('disconnect event', () => events.find((e) => e.event === 'disconnect' && e.commonName === 'erin'), 10_000);
    expect(gone).toEqual({
      event: 'disconnect',
      at: expect.any(Number),
      profileId: 'p1',
      commonName: 'erin',
      ipFour: '10.77.0.130',
      ipSix: 'fd77::1:2',
      originatingIp: '127.0.0.1',
      rx: expect.any(Number),
      tx: expect.any(Number),
    });
    expect(gone.rx).toBeGreaterThan(0);
    expect(gone.tx).toBeGreaterThan(0);
    expect((await backend.clients()).map((c) => c.commonName)).toEqual(['alice']);
  });

  it('halts a connected client whose CN leaves the allowed set', async () => {
    await backend.setAllowed(new Map([['erin', 'p1']]));
    expect(await exitOf(alice)).toBe(0);
    expect(alice.log()).toMatch(/Halt command was pushed by server/);
    expect(alice.log()).toMatch(/process exiting/);
    expect(logs.some((l) => l.msg === 'openvpn: halting client no longer allowed' && l.fields.commonName === 'alice')).toBe(true);
    const gone = await waitUntil('disconnect event', () => events.find((e) => e.event === 'disconnect' && e.commonName === 'alice'), 15_000);
    expect(gone).toMatchObject({ profileId: 'p1', ipFour: '10.77.0.2' });
    expect(await backend.clients()).toEqual([]);
    // Halted, not merely restarted: the client does not come back, and would be refused anyway.
    const again = await startClient('alice', PORTS[0]);
    await waitUntil('AUTH_FAILED', () => /AUTH_FAILED/.test(again.log()));
    await exitOf(again);
  });

  it('restarts only the server whose config changed', async () => {
    await backend.setAllowed(new Map([['alice', 'p1']]));
    const before = [await pidOf('p1-0'), await pidOf('p1-1')];
    // The second port moves: only p1-1's text changes.
    await backend.ensureProcesses(specsFor([PORTS[0], PORTS[2]]));
    expect(await pidOf('p1-0')).toBe(before[0]);
    expect(await pidOf('p1-1')).not.toBe(before[1]);
    expect(await alive(before[1] as number)).toBe(false);
    expect(await readFile(join(runDir, 'p1-1.conf'), 'utf8')).toMatch(/^port 11942$/m);
    // The new server admits through the agent too.
    const c = await startClient('alice', PORTS[2]);
    await up(c);
    expect((await backend.clients()).map((x) => [x.process, x.commonName])).toEqual([['p1-1', 'alice']]);
    await stopClient(c);
  });

  it('restarts a server that dies, after a backoff; its sessions end and clients are admitted again', async () => {
    const c = await startClient('alice', PORTS[0]);
    await up(c);
    const seen = events.length;
    const pid = await pidOf('p1-0');
    process.kill(pid, 'SIGKILL');
    await waitUntil('a new p1-0', async () => (await pidOf('p1-0').catch(() => pid)) !== pid && (await alive(await pidOf('p1-0'))), 15_000);
    expect(logs.some((l) => l.level === 'warn' && l.msg === 'openvpn: server exited unexpectedly' && l.fields.process === 'p1-0')).toBe(true);
    // The crashed server sent no DISCONNECT; the agent ends the session itself, without byte counts.
    const ended = await waitUntil('disconnect of the lost session', () => events.slice(seen).find((e) => e.event === 'disconnect'));
    expect(ended).toEqual({ event: 'disconnect', at: expect.any(Number), profileId: 'p1', commonName: 'alice', ipFour: '10.77.0.2', ipSix: 'fd77::2', originatingIp: '127.0.0.1' });
    // (The orphaned client itself only notices at its ping-restart, 60 s, so it is not waited for.)
    await stopClient(c);
    const d = await startClient('alice', PORTS[0]);
    await up(d);
    await stopClient(d);
  });

  it('leaves servers running on close(false); the next agent adopts them, stops the ones it no longer wants, and relaunches an adopted one that dies', async () => {
    const keep = await pidOf('p1-0');
    const drop = await pidOf('p1-1');
    await backend.close(false);
    expect(await alive(keep)).toBe(true);
    expect(await alive(drop)).toBe(true);

    const next = newBackend();
    await next.setAllowed(new Map([['alice', 'p1']]));
    await next.ensureProcesses(specsFor([PORTS[0], PORTS[2]]).slice(0, 1));
    expect(await pidOf('p1-0')).toBe(keep);
    expect(logs).toContainEqual({ level: 'info', msg: 'openvpn: adopting running server', fields: { process: 'p1-0', pid: keep } });
    await waitUntil('p1-1 gone', async () => !(await alive(drop)), 10_000);
    expect((await readdir(runDir)).filter((f) => f.startsWith('p1-1'))).toEqual([]);

    // The adopted server's admission is now answered by the new agent.
    const c = await startClient('alice', PORTS[0]);
    await up(c);
    expect((await next.clients()).map((x) => x.commonName)).toEqual(['alice']);
    await stopClient(c);

    // An adopted server is not the agent's child: its death shows as the management socket closing.
    process.kill(keep, 'SIGKILL');
    await waitUntil('p1-0 relaunched', async () => (await pidOf('p1-0').catch(() => keep)) !== keep && (await alive(await pidOf('p1-0'))), 15_000);
    const d = await startClient('alice', PORTS[0]);
    await up(d);
    await stopClient(d);
    backend = next;
  });

  it('close(true) stops every server and removes its files', async () => {
    const pid = await pidOf('p1-0');
    await backend.close(true);
    expect(await alive(pid)).toBe(false);
    expect(await readdir(runDir)).toEqual([]);
    const { stdout: links } = await run('ip', ['-n', netns, '-o', 'link', 'show']);
    expect(links).not.toMatch(/tun/);
    await expect(backend.ensureProcesses([])).rejects.toThrow(/closed/);
  });
});
