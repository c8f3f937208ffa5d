import type { Db } from '../core/db.ts';
import { parseList } from '../store/json.ts';
import { type ClientRow, findClientRow, listClientRows } from '../store/oauth.ts';

export interface OAuthClient {
  id: string;
  name: string;
  redirectUris: string[];
  requiresApproval: boolean;
}

const LOOPBACK = ['http://127.0.0.1:{PORT}/callback', 'http://[::1]:{PORT}/callback'];

/** The clients every eduVPN / Let's Connect! app ships with (docs/eduvpn.md §1.2, VpnClientDb upstream). */
const BUILT_IN: OAuthClient[] = [
  ['org.eduvpn.app.windows', 'eduVPN for Windows', LOOPBACK],
  ['org.eduvpn.app.android', 'eduVPN for Android', ['org.eduvpn.app:/api/callback']],
  ['org.eduvpn.app.ios', 'eduVPN for iOS', ['org.eduvpn.app.ios:/api/callback']],
  ['org.eduvpn.app.macos', 'eduVPN for macOS', LOOPBACK],
  ['org.eduvpn.app.linux', 'eduVPN for Linux', LOOPBACK],
  ['org.letsconnect-vpn.app.windows', "Let's Connect! for Windows", LOOPBACK],
  ['org.letsconnect-vpn.app.android', "Let's Connect! for Android", ['org.letsconnect-vpn.app:/api/callback']],
  ['org.letsconnect-vpn.app.ios', "Let's Connect! for iOS", ['org.letsconnect-vpn.app.ios:/api/callback']],
  ['org.letsconnect-vpn.app.macos', "Let's Connect! for macOS", LOOPBACK],
  ['org.letsconnect-vpn.app.linux', "Let's Connect! for Linux", LOOPBACK],
].map(([id, name, redirectUris]) => ({ id: id as string, name: name as string, redirectUris: redirectUris as string[], requiresApproval: true }));

const builtIn = new Map(BUILT_IN.map((c) => [c.id, c]));

export function isBuiltInClient(clientId: string): boolean {
  return builtIn.has(clientId);
}

function fromRow(row: ClientRow): OAuthClient {
  return { id: row.id, name: row.name, redirectUris: parseList(row.redirect_uris), requiresApproval: row.requires_approval === 1 };
}

export async function listRegisteredClients(db: Db): Promise<OAuthClient[]> {
  return (await listClientRows(db)).map(fromRow);
}

export async function findClient(db: Db, clientId: string): Promise<OAuthClient | null> {
  const known = builtIn.get(clientId);
  if (known) return known;
  if (clientId.length > 255) return null;
  const row = await findClientRow(db, clientId);
  return row ? fromRow(row) : null;
}

/**
 * Exact string match, except that a registered `http://127.0.0.1:{PORT}/…` or
 * `http://[::1]:{PORT}/…` accepts any port there (RFC 8252 §7.3: native apps listen on an
 * ephemeral loopback port). Nothing else about the URI may differ.
 */
export function redirectUriAllowed(client: OAuthClient, uri: string): boolean {
  return client.redirectUris.some((registered) => {
    if (registered === uri) return true;
    const at = registered.indexOf('{PORT}');
    if (at < 0) return false;
    const head = registered.slice(0, at);
    const tail = registered.slice(at + '{PORT}'.length);
    if (head !== 'http://127.0.0.1:' && head !== 'http://[::1]:') return false;
    if (!uri.startsWith(head) || !uri.endsWith(tail)) return false;
    const port = uri.slice(head.length, uri.length - tail.length);
    return /^[1-9]\d{0,4}$/.test(port) && Number(port) <= 65535;
  });
}
