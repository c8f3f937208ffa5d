import type { WireguardPeerState } from '../backends/types.ts';

export interface ParsedDump {
  publicKey: string | null;
  listenPort: number | null;
  fwmark: number | null;
  peers: Map<string, WireguardPeerState>;
}

/**
 * Parses `wg show <if> dump` (wg(8), "dump" format). The first line describes the interface:
 *   private-key  public-key  listen-port  fwmark
 * then one line per peer:
 *   public-key  preshared-key  endpoint  allowed-ips  latest-handshake  rx  tx  persistent-keepalive
 * Tab-separated; "(none)" / "off" / 0 stand for unset. The private key is read past and never
 * returned, so a parsed dump is safe to log.
 */
export function parseDump(text: string): ParsedDump {
  const lines = text.split('\n').filter((l) => l.length > 0);
  const head = lines[0];
  if (head === undefined) throw new Error('wg dump: empty output');
  const iface = head.split('\t');
  if (iface.length !== 4) throw new Error(`wg dump: interface line has ${iface.length} fields, expected 4`);
  const [, publicKey, listenPort, fwmark] = iface as [string, string, string, string];

  const peers = new Map<string, WireguardPeerState>();
  for (const [i, line] of lines.slice(1).entries()) {
    const f = line.split('\t');
    if (f.length !== 8) throw new Error(`wg dump: peer line ${i + 1} has ${f.length} fields, expected 8`);
    const [key, , endpoint, allowedIps, handshake, rx, tx] = f as [string, string, string, string, string, string, string];
    const lastHandshake = int(handshake, 'latest-handshake');
    peers.set(key, {
      allowedIps: allowedIps === '(none)' ? [] : allowedIps.split(','),
      endpoint: endpoint === '(none)' ? null : endpoint,
      lastHandshake: lastHandshake === 0 ? null : lastHandshake,
      rx: int(rx, 'transfer-rx'),
      tx: int(tx, 'transfer-tx'),
    });
  }
  return {
    publicKey: publicKey === '(none)' ? null : publicKey,
    listenPort: /^\d+$/.test(listenPort) ? Number(listenPort) : null,
    // fwmark is printed as "off" or as hex (0x...) by wg.
    fwmark: fwmark === 'off' ? null : Number(fwmark),
    peers,
  };
}

function int(s: string, field: string): number {
  if (!/^\d+$/.test(s)) throw new Error(`wg dump: ${field} is not a number: ${JSON.stringify(s)}`);
  return Number(s);
}
