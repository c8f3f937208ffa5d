/**
 * What the agent's event loop needs from the machine. Backends run the real tools (`wg`,
 * `wireguard-go`, `openvpn`) with execFile and argv arrays, never a shell string, and pass key
 * material by stdin or 0600 files. Every method is idempotent: the loop calls them from
 * reconcile, again after a restart, and again after a reconnect.
 */

export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

// ---- WireGuard ----

export interface WireguardInterfaceSpec {
  /** Interface name (unique on the machine: wireguard-go's UAPI sockets are global). */
  name: string;
  listenPort: number;
  /** The node's own address in each WireGuard range, with the range's prefix, e.g. 10.43.43.1/24. */
  addresses: string[];
}

export interface WireguardPeerSpec {
  publicKey: string;
  /** The client's addresses: `<ip4>/32` and `<ip6>/128`. */
  allowedIps: string[];
}

export interface WireguardPeerState {
  allowedIps: string[];
  endpoint: string | null;
  /** Epoch seconds of the latest handshake, null if never. */
  lastHandshake: number | null;
  rx: number;
  tx: number;
}

export interface WireguardObserved {
  exists: boolean;
  publicKey: string | null;
  listenPort: number | null;
  addresses: string[];
  peers: Map<string, WireguardPeerState>;
}

export interface WireguardBackend {
  /**
   * Creates the interface if missing (kernel module if present, else a daemonized `wireguard-go`
   * that outlives the agent, so tunnels survive agent restarts), sets the private key (generated
   * on the node on first use and kept 0600 in the state directory; it never leaves the node),
   * listen port and addresses, and brings it up. Returns the node's public key.
   */
  ensureInterface(spec: WireguardInterfaceSpec): Promise<{ publicKey: string }>;
  observe(): Promise<WireguardObserved>;
  /** Adds or updates and removes peers in one batched call, leaving every other peer untouched. */
  applyPeers(upsert: readonly WireguardPeerSpec[], remove: readonly string[]): Promise<void>;
}

// ---- OpenVPN ----

export interface OpenvpnProcessSpec {
  /** `<profileId>-<n>`, n counting UDP ports first, then TCP (docs/eduvpn.md §2.3). */
  name: string;
  profileId: string;
  /** The complete server configuration text (without secrets on the command line). */
  config: string;
}

export interface OpenvpnClient {
  process: string;
  profileId: string;
  cid: number;
  commonName: string;
  ipFour: string | null;
  ipSix: string | null;
  rx: number;
  tx: number;
  connectedSince: number;
  realAddress: string | null;
}

export interface OpenvpnEvent {
  event: 'connect' | 'disconnect';
  at: number;
  profileId: string;
  commonName: string;
  ipFour: string | null;
  ipSix: string | null;
  originatingIp: string | null;
  rx?: number;
  tx?: number;
}

export interface OpenvpnBackend {
  /**
   * Runs exactly these server processes: starts missing ones, restarts those whose config
   * changed, stops the rest. The agent owns each process's management socket.
   */
  ensureProcesses(specs: readonly OpenvpnProcessSpec[]): Promise<void>;
  /**
   * The certificates (by CN, with their profile) that may connect. Admission is answered by the
   * agent on the management interface from this set, so it keeps working while the portal is
   * away; clients already connected whose CN left the set are told to halt.
   */
  setAllowed(allowed: ReadonlyMap<string, string>): Promise<void>;
  clients(): Promise<OpenvpnClient[]>;
  onEvent(listener: (e: OpenvpnEvent) => void): void;
  /** Stops supervising; with `stopProcesses` (foreground mode) the servers stop too. */
  close(stopProcesses: boolean): Promise<void>;
}
