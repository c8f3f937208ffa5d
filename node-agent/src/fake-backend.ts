import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger, WireguardBackend, WireguardInterfaceSpec, WireguardObserved, WireguardPeerSpec, WireguardPeerState } from './backends/types.ts';
import { x25519PublicKey } from './wireguard/keys.ts';

/** What the fake "kernel" holds; also the shape of `<stateDir>/fake-peers.json`. */
export interface FakeWireguardState {
  interface: { name: string; listen_port: number; addresses: string[]; public_key: string } | null;
  peers: { public_key: string; allowed_ips: string[] }[];
}

export const FAKE_PEERS_FILE = 'fake-peers.json';
const KEY_FILE = 'fake-wireguard.pub';

/**
 * An in-memory WireGuard for the black-box tier (EDGEPORT_BACKEND=fake): the real agent runs
 * against it without root or a kernel module. After every change it writes what it holds to
 * `fake-peers.json` (temp + rename, so a test never reads half a file), and it starts from that
 * file, the way a real interface outlives an agent restart. Peers never handshake here.
 */
export async function createFakeBackend(stateDir: string, logger: Logger): Promise<WireguardBackend> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const file = join(stateDir, FAKE_PEERS_FILE);
  const saved = await readState(file);
  let iface = saved?.interface ?? null;
  const peers = new Map((saved?.peers ?? []).map((p) => [p.public_key, p.allowed_ips]));

  async function persist(): Promise<void> {
    const state: FakeWireguardState = {
      interface: iface,
      // Sorted: the same peers always give the same bytes, so a test can compare files.
      peers: [...peers].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([public_key, allowed_ips]) => ({ public_key, allowed_ips: [...allowed_ips].sort() })),
    };
    await writeAtomic(file, `${JSON.stringify(state, null, 2)}\n`);
  }

  return {
    async ensureInterface(spec: WireguardInterfaceSpec) {
      const public_key = await nodeKey(stateDir);
      const next = { name: spec.name, listen_port: spec.listenPort, addresses: [...spec.addresses].sort(), public_key };
      if (JSON.stringify(next) !== JSON.stringify(iface)) {
        iface = next;
        await persist();
        logger.info('fake wireguard: interface set', { interface: spec.name, listenPort: spec.listenPort });
      }
      return { publicKey: public_key };
    },

    async observe(): Promise<WireguardObserved> {
      if (!iface) return { exists: false, publicKey: null, listenPort: null, addresses: [], peers: new Map() };
      const observed = new Map<string, WireguardPeerState>();
      for (const [key, allowedIps] of peers) observed.set(key, { allowedIps: [...allowedIps], endpoint: null, lastHandshake: null, rx: 0, tx: 0 });
      return { exists: true, publicKey: iface.public_key, listenPort: iface.listen_port, addresses: [...iface.addresses], peers: observed };
    },

    async applyPeers(upsert: readonly WireguardPeerSpec[], remove: readonly string[]) {
      if (!upsert.length && !remove.length) return;
      for (const key of remove) peers.delete(key);
      for (const p of upsert) peers.set(p.publicKey, [...p.allowedIps]);
      await persist();
      logger.info('fake wireguard: peers applied', { upserted: upsert.length, removed: remove.length, peers: peers.size });
    },
  };
}

async function readState(file: string): Promise<FakeWireguardState | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as FakeWireguardState;
  } catch {
    return null;
  }
}

/** A real X25519 public key (the portal checks the format), made once per state directory. */
async function nodeKey(stateDir: string): Promise<string> {
  const file = join(stateDir, KEY_FILE);
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const key = x25519PublicKey();
    await writeAtomic(file, `${key}\n`);
    return key;
  }
}

async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
}
