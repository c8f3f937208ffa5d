import { randomBytes } from 'node:crypto';
import { access, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger, WireguardBackend, WireguardPeerSpec } from '../src/backends/types.ts';
import { createWireguardBackend } from '../src/wireguard/backend.ts';
import { x25519PublicKey } from '../src/wireguard/keys.ts';
import { CommandError, createRunner, type Runner } from '../src/wireguard/run.ts';
import { processesWithArgv, spawnHelper, stopHelper, waitForOutput, type Helper } from './support/process.ts';
import { onHardHang } from './support/watchdog.ts';

// Real wg, wireguard-go and iproute2 in two network namespaces joined by a veth pair: the server
// namespace runs the backend under test, the client namespace a second backend acting as a client.
// Names carry a random id because wireguard-go's UAPI sockets are shared by every namespace.
const id = randomBytes(3).toString('hex');
const nsS = `ep-wgs-${id}`;
const nsC = `ep-wgc-${id}`;
const ifS = `epws${id}`;
const ifC = `epwc${id}`;
const ifNever = `epwn${id}`;
const UAPI = '/var/run/wireguard';
const host = createRunner();
const inS = createRunner({ netns: nsS });
const inC = createRunner({ netns: nsC });

const logs: string[] = [];
const logger: Logger = {
  info: (msg, fields) => logs.push(JSON.stringify({ level: 'info', msg, ...fields })),
  warn: (msg, fields) => logs.push(JSON.stringify({ level: 'warn', msg, ...fields })),
  error: (msg, fields) => logs.push(JSON.stringify({ level: 'error', msg, ...fields })),
};

/** Wraps a runner to record every argv (without the netns prefix) the backend runs. */
function recording(inner: Runner): { run: Runner; calls: string[][] } {
  const calls: string[][] = [];
  return { calls, run: (argv, options) => (calls.push([...argv]), inner(argv, options)) };
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

// A UDP echo on the server's tunnel address stands in for ping (no ping binary on this machine,
// and Node cannot open raw ICMP sockets); what it proves is the same: packets cross the tunnel.
const ECHO_PORT = 7777;
const echoServerJs = `
const s = require('node:dgram').createSocket(process.argv[1].includes(':') ? 'udp6' : 'udp4');
s.on('message', (m, r) => s.send(m, r.port, r.address));
s.bind(${ECHO_PORT}, process.argv[1], () => console.log('ready'));`;
const echoProbeJs = `
const [addr, ms] = process.argv.slice(1);
const s = require('node:dgram').createSocket(addr.includes(':') ? 'udp6' : 'udp4');
s.on('message', () => process.exit(0));
const send = () => s.send('ping', ${ECHO_PORT}, addr, () => {});
send();
setInterval(send, 200);
setTimeout(() => process.exit(3), Number(ms));`;

/** True when a datagram from the client namespace to `addr` comes back within `ms`. */
async function echoes(addr: string, ms: number): Promise<boolean> {
  try {
    // The probe ends itself at `ms`; the runner's bound is only for a probe that cannot.
    await inC([process.execPath, '-e', echoProbeJs, addr, String(ms)], { timeoutMs: ms + 10_000 });
    return true;
  } catch (e) {
    if (e instanceof CommandError && e.exitCode === 3) return false;
    throw e;
  }
}

const ECHO_READY_MS = 10_000;
const echoServers: Helper[] = [];
async function startEchoServer(addr: string): Promise<void> {
  const echo = spawnHelper(`UDP echo server on ${addr} in ${nsS}`, ['ip', 'netns', 'exec', nsS, process.execPath, '-e', echoServerJs, addr]);
  echoServers.push(echo);
  await waitForOutput(echo, /ready/, ECHO_READY_MS);
}

let stateS: string;
let stateC: string;

// What this file makes, for afterAll and, should the worker hang for good, for the watchdog.
const ours = [
  [nsS, ifS],
  [nsS, ifNever],
  [nsC, ifC],
] as const;
const socketOf = (dev: string) => join(UAPI, `${dev}.sock`);

beforeAll(async () => {
  // Registered first, undone last: namespaces go after the interfaces, sockets and processes in
  // them (wireguard-go and the echo servers run inside, so `ip netns pids` finds them).
  for (const ns of [nsS, nsC]) {
    onHardHang({ argv: ['ip', 'netns', 'del', ns] });
    onHardHang({ argv: ['sh', '-c', `ip netns pids ${ns} | xargs -r kill -9`] });
  }
  for (const [ns, dev] of ours) {
    onHardHang({ argv: ['ip', '-n', ns, 'link', 'del', dev] });
    // Removing the socket makes a wireguard-go whose link is already gone exit as well.
    onHardHang({ path: socketOf(dev) });
  }
  stateS = await mkdtemp(join(tmpdir(), 'ep-wg-s-'));
  stateC = await mkdtemp(join(tmpdir(), 'ep-wg-c-'));
  for (const dir of [stateS, stateC]) onHardHang({ path: dir });
  await host(['ip', 'netns', 'add', nsS]);
  await host(['ip', 'netns', 'add', nsC]);
  await inS(['ip', 'link', 'add', 'veth-s', 'type', 'veth', 'peer', 'name', 'veth-c', 'netns', nsC]);
  await inS(['ip', 'address', 'add', '192.168.77.1/30', 'dev', 'veth-s']);
  await inC(['ip', 'address', 'add', '192.168.77.2/30', 'dev', 'veth-c']);
  for (const [run, dev] of [
    [inS, 'veth-s'],
    [inC, 'veth-c'],
    [inS, 'lo'],
    [inC, 'lo'],
  ] as const) {
    await run(['ip', 'link', 'set', dev, 'up']);
  }
});

const CLEANUP_WAIT_MS = 5_000;

/** Runs every cleanup step even when one fails; returns what went wrong. */
async function cleanUp(): Promise<unknown[]> {
  const errors: unknown[] = [];
  const step = (work: () => Promise<unknown>) => work().catch((e: unknown) => errors.push(e));
  for (const echo of echoServers) await step(() => stopHelper(echo, 2_000));
  // Deleting the link makes wireguard-go exit and remove its UAPI socket.
  for (const [ns, dev] of ours) await step(() => host(['ip', '-n', ns, 'link', 'del', dev], { timeoutMs: CLEANUP_WAIT_MS }).catch(() => {}));
  const deadline = Date.now() + CLEANUP_WAIT_MS;
  while ((await ourSocketsLeft()).length > 0 && Date.now() < deadline) await sleep(50);
  // A wireguard-go that did not go with its link (a test failed half-way, a namespace went first).
  for (const [, dev] of ours) {
    for (const pid of await processesWithArgv(['wireguard-go', dev])) await step(async () => process.kill(pid, 'SIGKILL'));
  }
  for (const sock of await ourSocketsLeft()) await step(() => rm(sock, { force: true }));
  for (const ns of [nsS, nsC]) await step(() => host(['ip', 'netns', 'del', ns], { timeoutMs: CLEANUP_WAIT_MS }).catch(() => {}));
  for (const dir of [stateS, stateC]) if (dir) await step(() => rm(dir, { recursive: true, force: true }));
  return errors;
}

async function ourSocketsLeft(): Promise<string[]> {
  const socks = ours.map(([, dev]) => socketOf(dev));
  const present = await Promise.all(socks.map(exists));
  return socks.filter((_, i) => present[i]);
}

afterAll(async () => {
  const errors = await cleanUp();
  const netns = await host(['ip', 'netns', 'list']);
  if (netns.includes(id)) errors.push(new Error(`namespaces left behind: ${netns}`));
  const socks = await ourSocketsLeft();
  if (socks.length > 0) errors.push(new Error(`wireguard-go UAPI sockets left behind: ${socks.join(', ')}`));
  const daemons = (await Promise.all(ours.map(([, dev]) => processesWithArgv(['wireguard-go', dev])))).flat();
  if (daemons.length > 0) errors.push(new Error(`wireguard-go processes left behind: ${daemons.join(', ')}`));
  if (errors.length > 0) throw new AggregateError(errors, `cleanup of ${nsS}/${nsC} failed: ${errors.map(String).join('; ')}`);
}, 40_000);

describe('WireGuard backend against real wg, wireguard-go and iproute2', () => {
  let server: WireguardBackend;
  let serverRec: ReturnType<typeof recording>;
  let serverPub: string;
  const spec = { name: '', listenPort: 51820, addresses: ['10.99.0.1/24', 'fd99:0:0::1/64'] };
  const [P1, P2, P3] = [x25519PublicKey(), x25519PublicKey(), x25519PublicKey()] as [string, string, string];

  beforeAll(() => {
    spec.name = ifS;
    serverRec = recording(inS);
    server = createWireguardBackend({ stateDir: stateS, logger, interfaceName: ifS, run: serverRec.run });
  });

  it('observes a missing interface as not existing', async () => {
    expect(await server.observe()).toEqual({ exists: false, publicKey: null, listenPort: null, addresses: [], peers: new Map() });
  });

  it('creates the interface (falling back to wireguard-go), idempotently, with a 0600 key', async () => {
    serverRec.calls.length = 0;
    const first = await server.ensureInterface(spec);
    const keyFile = join(stateS, 'wireguard.key');
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect(first.publicKey).toBe((await inS(['wg', 'pubkey'], { stdin: await readFile(keyFile, 'utf8') })).trim());
    expect(await exists(join(UAPI, `${ifS}.sock`))).toBe(true);
    expect(serverRec.calls.map((c) => c[0])).toEqual(['wg', 'wg', 'ip', 'ip', 'wireguard-go', 'ip', 'ip', 'wg', 'wg', 'ip', 'ip', 'ip']);
    expect(logs.some((l) => l.includes('generated node private key'))).toBe(true);

    serverRec.calls.length = 0;
    const second = await server.ensureInterface(spec);
    expect(second.publicKey).toBe(first.publicKey);
    // The second pass only looks: no wireguard-go, no `wg set`, no address or link changes.
    expect(serverRec.calls.map((c) => c.slice(0, 2).join(' '))).toEqual(['wg pubkey', 'ip -j', 'wg show']);
    serverPub = first.publicKey;

    const seen = await server.observe();
    expect(seen).toMatchObject({ exists: true, publicKey: serverPub, listenPort: 51820 });
    expect(seen.addresses.sort()).toEqual(['10.99.0.1/24', 'fd99::1/64']);
    expect(seen.peers.size).toBe(0);
    expect((await inS(['ip', '-j', 'link', 'show', 'dev', ifS])).includes('"UP"')).toBe(true);
  });

  it('refuses kernel-only mode on a machine without kernel WireGuard, naming the command', async () => {
    const never = createWireguardBackend({ stateDir: stateS, logger, interfaceName: ifNever, userspace: 'never', netns: nsS });
    const err = await never.ensureInterface({ name: ifNever, listenPort: 51999, addresses: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect(String(err)).toMatch(new RegExp(`ip link add ${ifNever} type wireguard failed .*Unknown device type`));
  });

  it('removes addresses that are not in the spec', async () => {
    await inS(['ip', 'address', 'add', '10.98.0.1/24', 'dev', ifS]);
    await server.ensureInterface(spec);
    expect((await server.observe()).addresses.sort()).toEqual(['10.99.0.1/24', 'fd99::1/64']);
  });

  it('adds, updates and removes peers, one `wg set` per batch', async () => {
    serverRec.calls.length = 0;
    await server.applyPeers([], []);
    expect(serverRec.calls).toEqual([]);

    await server.applyPeers(
      [
        { publicKey: P1, allowedIps: ['10.99.0.11/32', 'fd99::11/128'] },
        { publicKey: P2, allowedIps: ['10.99.0.12/32', 'fd99::12/128'] },
        { publicKey: P3, allowedIps: ['10.99.0.13/32', 'fd99::13/128'] },
      ],
      [],
    );
    expect(serverRec.calls.filter((c) => c[0] === 'wg' && c[1] === 'set')).toHaveLength(1);
    expect([...(await server.observe()).peers.keys()].sort()).toEqual([P1, P2, P3].sort());

    serverRec.calls.length = 0;
    await server.applyPeers([{ publicKey: P2, allowedIps: ['10.99.0.22/32'] }], [P3]);
    expect(serverRec.calls).toHaveLength(1);
    const peers = (await server.observe()).peers;
    expect([...peers.keys()].sort()).toEqual([P1, P2].sort());
    expect(peers.get(P1)).toEqual({ allowedIps: ['10.99.0.11/32', 'fd99::11/128'], endpoint: null, lastHandshake: null, rx: 0, tx: 0 });
    // Replaced, not merged.
    expect(peers.get(P2)?.allowedIps).toEqual(['10.99.0.22/32']);
  });

  it('leaves peers alone when the interface is ensured again', async () => {
    await server.ensureInterface(spec);
    expect([...(await server.observe()).peers.keys()].sort()).toEqual([P1, P2].sort());
  });

  it('carries traffic to a real client, reports its handshake and bytes, and stops when the peer goes', async () => {
    const client = createWireguardBackend({ stateDir: stateC, logger, interfaceName: ifC, userspace: 'always', netns: nsC });
    const { publicKey: clientPub } = await client.ensureInterface({ name: ifC, listenPort: 51821, addresses: ['10.99.0.2/24', 'fd99::2/64'] });
    expect(clientPub).not.toBe(serverPub);
    // The contract has no endpoints (servers learn them from handshakes); the client is told by hand.
    await inC(['wg', 'set', ifC, 'peer', serverPub, 'endpoint', '192.168.77.1:51820', 'allowed-ips', '10.99.0.0/24,fd99::/64']);
    await server.applyPeers([{ publicKey: clientPub, allowedIps: ['10.99.0.2/32', 'fd99::2/128'] }], []);

    await startEchoServer('10.99.0.1');
    await startEchoServer('fd99::1');
    expect(await echoes('10.99.0.1', 10_000)).toBe(true);
    expect(await echoes('fd99::1', 10_000)).toBe(true);

    const peer = (await server.observe()).peers.get(clientPub);
    expect(peer?.endpoint).toBe('192.168.77.2:51821');
    expect(peer?.lastHandshake).not.toBeNull();
    expect(Math.abs((peer?.lastHandshake ?? 0) - Date.now() / 1000)).toBeLessThan(60);
    expect(peer?.rx).toBeGreaterThan(0);
    expect(peer?.tx).toBeGreaterThan(0);

    await server.applyPeers([], [clientPub]);
    expect((await server.observe()).peers.has(clientPub)).toBe(false);
    expect(await echoes('10.99.0.1', 3_000)).toBe(false);
  });

  it('applies 1,000 peers in one call and reads them back', async () => {
    const batch: WireguardPeerSpec[] = Array.from({ length: 1000 }, (_, i) => ({
      publicKey: x25519PublicKey(),
      allowedIps: [`10.100.${i >> 8}.${i & 255}/32`, `fd99:100::${(i + 1).toString(16)}/128`],
    }));
    serverRec.calls.length = 0;
    const t0 = performance.now();
    await server.applyPeers(batch, []);
    const applyMs = performance.now() - t0;
    expect(serverRec.calls).toHaveLength(1);

    const t1 = performance.now();
    const seen = await server.observe();
    const observeMs = performance.now() - t1;
    console.log(`1,000 peers: applyPeers ${applyMs.toFixed(0)} ms (one wg set), observe ${observeMs.toFixed(0)} ms`);
    expect(seen.peers.size).toBe(1000 + 2);
    for (const p of batch) expect(seen.peers.get(p.publicKey)?.allowedIps).toEqual(p.allowedIps);

    // Removing them through a backend that chunks at 300 peers per call: four calls, nothing left.
    const chunked = recording(inS);
    const small = createWireguardBackend({ stateDir: stateS, logger, interfaceName: ifS, run: chunked.run, peersPerCall: 300 });
    await small.applyPeers(
      [],
      batch.map((p) => p.publicKey),
    );
    expect(chunked.calls).toHaveLength(4);
    expect([...(await server.observe()).peers.keys()].sort()).toEqual([P1, P2].sort());
  });

  it('never logs key material', async () => {
    const priv = (await readFile(join(stateS, 'wireguard.key'), 'utf8')).trim();
    const clientPriv = (await readFile(join(stateC, 'wireguard.key'), 'utf8')).trim();
    expect(logs.length).toBeGreaterThan(0);
    for (const line of logs) {
      expect(line).not.toContain(priv);
      expect(line).not.toContain(clientPriv);
    }
  });
});
