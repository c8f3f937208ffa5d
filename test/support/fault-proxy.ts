/**
 * A TCP proxy on loopback that a test puts in front of something it wants to break: the node
 * link (the agent's EDGEPORT_PORTAL_URLS names the proxy, not the portal) or the database link
 * (the portal's DATABASE_URL names it). Faults are switched at run time:
 *
 * - `refuse`: new connections are accepted and reset at once (the caller sees ECONNRESET, the
 *   same as a port with nothing behind it, but the proxy keeps its port so nothing else takes it);
 * - `blackhole`: new connections are accepted and never answered (handshake timeouts);
 * - `dropAll()`: every live connection is destroyed in both directions (a cut cable, a NAT reset);
 * - `latencyMs` / `jitterMs`: each chunk is held that long (plus up to the jitter) per direction,
 *   order kept, as a slow path does;
 * - `stallRate` / `stallMs`: a chunk is held an extra `stallMs` with that probability: TCP turns
 *   packet loss into exactly this (a retransmission after a timeout), never into lost bytes;
 * - `resetRate`: with that probability per chunk the connection is reset: the loss that kills
 *   connections (a flaky middlebox), which is what exercises reconnects;
 * - `tripwire`: once a chunk from the client matches `armedBy` (if given), the first chunk that
 *   matches `cutAt` is not forwarded and the link goes down (refuse + drop all): "the network
 *   failed between these two statements", e.g. after a transaction's INSERT, before its COMMIT.
 *
 * Randomness comes from a seeded generator, so a failing run can be replayed with its seed.
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

export interface Faults {
  refuse: boolean;
  blackhole: boolean;
  latencyMs: number;
  jitterMs: number;
  stallRate: number;
  stallMs: number;
  resetRate: number;
  tripwire: { armedBy?: RegExp; cutAt: RegExp } | null;
}

export const NO_FAULTS: Faults = { refuse: false, blackhole: false, latencyMs: 0, jitterMs: 0, stallRate: 0, stallMs: 0, resetRate: 0, tripwire: null };

export interface ProxyStats {
  accepted: number;
  refused: number;
  dropped: number;
  resets: number;
  stalls: number;
  bytes: number;
  trips: number;
}

export interface FaultProxy {
  readonly port: number;
  /** `http://127.0.0.1:<port>`: loopback plain HTTP, which the agent accepts for a portal URL. */
  readonly origin: string;
  readonly stats: ProxyStats;
  /** Where new connections go; live ones keep their target. */
  setTarget(port: number, host?: string): void;
  /** Merges `faults` into the current ones; `heal()` clears them all. */
  set(faults: Partial<Faults>): void;
  heal(): void;
  /** Destroys every live connection; returns how many there were. */
  dropAll(): number;
  live(): number;
  close(): Promise<void>;
}

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Pair {
  client: Socket;
  upstream: Socket;
}

export async function startFaultProxy(opts: { targetPort?: number; targetHost?: string; seed?: number } = {}): Promise<FaultProxy> {
  let target = { host: opts.targetHost ?? '127.0.0.1', port: opts.targetPort ?? 0 };
  let faults: Faults = { ...NO_FAULTS };
  const random = seeded(opts.seed ?? 1);
  const stats: ProxyStats = { accepted: 0, refused: 0, dropped: 0, resets: 0, stalls: 0, bytes: 0, trips: 0 };
  let armed = false;
  const pairs = new Set<Pair>();
  const held = new Set<Socket>();

  /**
   * One direction of a connection: chunks leave in arrival order, each no earlier than its own
   * delay, so latency never reorders bytes (TCP would not either).
   */
  /** True when `chunk` (client → upstream) trips the wire: the link is cut before it is forwarded. */
  function trips(chunk: Buffer): boolean {
    const wire = faults.tripwire;
    if (!wire) return false;
    const text = chunk.toString('latin1');
    if (!armed && (!wire.armedBy || wire.armedBy.test(text))) armed = true;
    if (!armed || !wire.cutAt.test(text)) return false;
    stats.trips++;
    armed = false;
    faults = { ...faults, tripwire: null, refuse: true };
    for (const p of [...pairs]) destroy(p);
    return true;
  }

  function pipe(from: Socket, to: Socket, pair: Pair, upward: boolean): void {
    let lastDue = 0;
    let waiting = 0;
    from.on('data', (chunk: Buffer) => {
      stats.bytes += chunk.length;
      if (upward && trips(chunk)) return;
      if (faults.resetRate > 0 && random() < faults.resetRate) {
        stats.resets++;
        destroy(pair);
        return;
      }
      let delay = faults.latencyMs + (faults.jitterMs ? random() * faults.jitterMs : 0);
      if (faults.stallRate > 0 && random() < faults.stallRate) {
        stats.stalls++;
        delay += faults.stallMs;
      }
      if (delay <= 0 && lastDue <= Date.now()) {
        to.write(chunk);
        return;
      }
      const due = Math.max(Date.now() + delay, lastDue);
      lastDue = due;
      waiting += chunk.length;
      // Back-pressure only past a megabyte in flight: a slow link must not become unbounded
      // memory here, but pausing per chunk would turn latency into stop-and-wait.
      if (waiting > 1 << 20) from.pause();
      setTimeout(() => {
        waiting -= chunk.length;
        if (!to.destroyed) to.write(chunk);
        if (waiting <= 1 << 20) from.resume();
      }, due - Date.now()).unref();
    });
    from.on('end', () => setTimeout(() => to.end(), Math.max(0, lastDue - Date.now())).unref());
  }

  function destroy(pair: Pair): void {
    if (!pairs.delete(pair)) return;
    // resetAndDestroy sends an RST: the peer learns at once, as with a real cut, not after a FIN.
    for (const s of [pair.client, pair.upstream]) if (!s.destroyed) s.resetAndDestroy();
  }

  const server: Server = createServer({ pauseOnConnect: true }, (client) => {
    client.on('error', () => {});
    if (faults.refuse) {
      stats.refused++;
      client.resetAndDestroy();
      return;
    }
    if (faults.blackhole) {
      held.add(client);
      client.on('close', () => held.delete(client));
      return;
    }
    stats.accepted++;
    const upstream = connect({ host: target.host, port: target.port });
    const pair: Pair = { client, upstream };
    pairs.add(pair);
    upstream.on('error', () => destroy(pair));
    client.on('close', () => destroy(pair));
    upstream.on('close', () => destroy(pair));
    upstream.on('connect', () => {
      pipe(client, upstream, pair, true);
      pipe(upstream, client, pair, false);
      client.resume();
    });
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    stats,
    setTarget(p, host = '127.0.0.1') {
      target = { host, port: p };
    },
    set(f) {
      faults = { ...faults, ...f };
      if (f.tripwire !== undefined) armed = false;
    },
    heal() {
      faults = { ...NO_FAULTS };
      for (const s of held) s.resetAndDestroy();
      held.clear();
    },
    dropAll() {
      const n = pairs.size;
      stats.dropped += n;
      for (const p of [...pairs]) destroy(p);
      return n;
    },
    live: () => pairs.size,
    async close() {
      for (const p of [...pairs]) destroy(p);
      for (const s of held) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
