/**
 * The OpenVPN client configuration (docs/eduvpn.md §2.2) and the tls-crypt key format. Everything is
 * inline so the file is the whole credential; the apps append `script-security 0` themselves.
 */
import type { ProfileConfig } from '../core/profile-config.ts';
import { configHeader } from './wireguard-config.ts';

export type Proto = 'udp' | 'tcp';

export interface Remote {
  port: number;
  proto: Proto;
}

// Ports that often pass restrictive firewalls; offering one of each kind gives the client a way out.
const SPECIAL: Record<Proto, readonly number[]> = { udp: [53, 443], tcp: [80, 443] };

function pick(list: readonly number[], random: () => number): number | undefined {
  if (list.length === 0) return undefined;
  // Clamp: a random source returning exactly 1 must not index past the end.
  return list[Math.min(list.length - 1, Math.floor(random() * list.length))];
}

/** One random "normal" and one random "special" port of one protocol (0–2 remotes). */
function remotesOf(proto: Proto, ports: readonly number[], random: () => number): Remote[] {
  const normal = ports.filter((p) => !SPECIAL[proto].includes(p));
  const special = ports.filter((p) => SPECIAL[proto].includes(p));
  return [pick(normal, random), pick(special, random)].filter((p) => p !== undefined).map((port) => ({ port, proto }));
}

/**
 * At most four remotes, UDP first unless the client prefers TCP. Each OpenVPN process listens on one
 * port, so the random choice is what spreads clients across processes (docs/eduvpn.md §2.2).
 */
export function selectRemotes(udpPorts: readonly number[], tcpPorts: readonly number[], preferTcp: boolean, random: () => number): Remote[] {
  const udp = remotesOf('udp', udpPorts, random);
  const tcp = remotesOf('tcp', tcpPorts, random);
  return preferTcp ? [...tcp, ...udp] : [...udp, ...tcp];
}

export interface OpenvpnClientInput {
  portalUrl: string;
  profile: Pick<ProfileConfig, 'id' | 'display_name'>;
  expiresAt: Date;
  /** The node's host name. */
  host: string;
  /** The ports the node's processes are reachable on (upstream: the "exposed" lists if set). */
  udpPorts: readonly number[];
  tcpPorts: readonly number[];
  preferTcp: boolean;
  caPem: string;
  certPem: string;
  keyPem: string;
  /** The profile's tls-crypt key, from tlsCryptKey(). */
  tlsCrypt: string;
  /** Math.random in production; seeded in tests. */
  random: () => number;
}

const inline = (tag: string, pem: string) => [`<${tag}>`, pem.trim(), `</${tag}>`];

export function openvpnClientConfig(input: OpenvpnClientInput): string {
  const remotes = selectRemotes(input.udpPorts, input.tcpPorts, input.preferTcp, input.random);
  if (remotes.length === 0) throw new Error(`profile "${input.profile.id}" has no OpenVPN ports`);
  const lines = [
    ...configHeader(input.portalUrl, input.profile, input.expiresAt),
    'dev tun',
    'client',
    'nobind',
    'remote-cert-tls server',
    'verb 3',
    'server-poll-timeout 10',
    'tls-version-min 1.3',
    'data-ciphers AES-256-GCM:CHACHA20-POLY1305',
    'reneg-sec 0',
    ...inline('ca', input.caPem),
    ...inline('cert', input.certPem),
    ...inline('key', input.keyPem),
    ...inline('tls-crypt', input.tlsCrypt),
    ...remotes.map((r) => `remote ${input.host} ${r.port} ${r.proto}`),
  ];
  return `${lines.join('\n')}\n`;
}

const TLS_CRYPT_BYTES = 256;

/** Formats 256 bytes as an `OpenVPN Static key V1` (2048 bits: 16 lines of 32 hex digits). */
export function tlsCryptKey(bytes: Uint8Array): string {
  if (bytes.length !== TLS_CRYPT_BYTES) throw new RangeError(`a tls-crypt key is ${TLS_CRYPT_BYTES} bytes, got ${bytes.length}`);
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  const lines = hex.match(/.{32}/g) ?? [];
  return ['-----BEGIN OpenVPN Static key V1-----', ...lines, '-----END OpenVPN Static key V1-----', ''].join('\n');
}

/** A fresh per-profile tls-crypt key; shared by the profile's servers and all its clients. */
export function generateTlsCryptKey(): string {
  return tlsCryptKey(crypto.getRandomValues(new Uint8Array(TLS_CRYPT_BYTES)));
}
