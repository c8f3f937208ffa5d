/**
 * Configurations made in the browser portal for devices without an app (upstream's
 * `POST /addConfig` and `/deleteConfig`, docs/eduvpn.md §4). They are placed on a node exactly as app
 * configs are (connect.ts), but belong to no authorization, are limited rather than evicted, and
 * a WireGuard one carries its private key, made here and never stored.
 */
import type { Change } from '@edgeport/schema';
import type { Config } from '../config/config.ts';
import type { Db } from '../core/db.ts';
import { AppError } from '../core/errors.ts';
import { deletePortalConfigStatements, findPortalConfigNode, listPortalConfigs, type PortalConfigKind } from '../store/configs.ts';
import { servingNodes } from '../store/nodes.ts';
import { allowedFor, getProfile } from '../store/profiles.ts';
import type { CurrentUser } from '../store/users.ts';
import { vpnCa } from './vpn-ca.ts';
import { generateWireguardKeyPair } from '../vpn/wireguard-keys.ts';
import { placeConfig, type PlacementDeps } from './placement/index.ts';
import { applyNodeChange, type NodeNotifier } from './node-door.ts';
import type { ProfileConfig } from './profile.ts';
import type { VpnProto } from './protocol.ts';

export interface NewPortalConfig {
  name: string;
  profileId: string;
  proto: VpnProto;
  preferTcp: boolean;
}

/** Why a form field was refused; the page words it in the user's language. */
export type ConfigProblem = 'name' | 'profile' | 'proto';
export interface ConfigFieldProblem {
  field: 'name' | 'profile';
  problem: ConfigProblem;
}

type ParsedConfigForm = { ok: true; value: NewPortalConfig } | { ok: false; problems: ConfigFieldProblem[] };

const PROFILE_ID = /^[a-z0-9][a-z0-9._-]{0,62}$/;
// Control characters would garble the list and the file name; everything else is the user's choice.
const NAME = /^[^\p{Cc}]{1,64}$/u;

/** The form: `display_name`, `profile` as "profile_id:proto" (one select lists each offered pair), `prefer_tcp`. */
function parseConfigForm(body: Record<string, unknown>): ParsedConfigForm {
  const problems: ConfigFieldProblem[] = [];
  const name = typeof body.display_name === 'string' ? body.display_name.trim() : '';
  if (!NAME.test(name)) problems.push({ field: 'name', problem: 'name' });
  const pair = typeof body.profile === 'string' ? body.profile : '';
  const cut = pair.lastIndexOf(':');
  const profileId = pair.slice(0, cut);
  const proto = pair.slice(cut + 1);
  if (cut < 1 || !PROFILE_ID.test(profileId)) problems.push({ field: 'profile', problem: 'profile' });
  else if (proto !== 'wireguard' && proto !== 'openvpn') problems.push({ field: 'profile', problem: 'proto' });
  if (problems.length) return { ok: false, problems };
  return { ok: true, value: { name, profileId, proto: proto as VpnProto, preferTcp: body.prefer_tcp === 'yes' } };
}

/**
 * The authorization lifetime (AUTHORIZATION_DAYS), never past the VPN CA's own expiry: the same
 * rule app authorizations follow (oauth/grants.ts), so a portal config lasts as long as an app's.
 */
export async function configExpiry(config: Config, now: number): Promise<number> {
  const wanted = now + config.oauth.authorizationMs;
  if (!config.vpn.caCert || !config.vpn.caKey) return wanted;
  const ca = await vpnCa(config);
  return Math.min(wanted, ca.cert.notAfter.getTime());
}

export type CreateOutcome =
  | { kind: 'invalid'; problems: ConfigFieldProblem[] }
  | { kind: 'disabled' }
  | { kind: 'limit'; max: number }
  | { kind: 'unavailable' }
  | { kind: 'created'; proto: VpnProto; profile: ProfileConfig; name: string; body: string; expiresAt: number };

/** Which protocols a profile offers, in its preferred order. */
export function offeredProtocols(profile: ProfileConfig): VpnProto[] {
  const offered = (['wireguard', 'openvpn'] as const).filter((p) => profile[p] !== null);
  return offered.sort((a, b) => Number(b === profile.preferred_proto) - Number(a === profile.preferred_proto));
}

export async function createPortalConfig(deps: PlacementDeps, user: CurrentUser, form: Record<string, unknown>): Promise<CreateOutcome> {
  const max = deps.config.vpn.maxActivePortalConfigs;
  if (max === 0) return { kind: 'disabled' };
  const parsed = parseConfigForm(form);
  if (!parsed.ok) return { kind: 'invalid', problems: parsed.problems };
  const input = parsed.value;
  const [profile, existing, serving] = await Promise.all([getProfile(deps.db, input.profileId), listPortalConfigs(deps.db, user.id, deps.now), servingNodes(deps.db, input.profileId)]);
  // A profile the user may not use is answered like a missing one: profile ids are not to be probed.
  if (!profile || allowedFor([profile], user.permissions).length === 0) return { kind: 'invalid', problems: [{ field: 'profile', problem: 'profile' }] };
  if (!profile[input.proto]) return { kind: 'invalid', problems: [{ field: 'profile', problem: 'proto' }] };
  // Upstream refuses at the limit (no eviction): the user chooses which device to drop.
  if (existing.length >= max) return { kind: 'limit', max };

  const keys = input.proto === 'wireguard' ? await generateWireguardKeyPair() : null;
  const owner = { userId: user.id, authorizationId: null, displayName: input.name, expiresAt: await configExpiry(deps.config, deps.now) };
  try {
    const placed = await placeConfig(deps, owner, { profile, order: [input.proto], preferTcp: input.preferTcp, wireguard: keys }, serving, { statements: [], removals: new Map(), replaced: [] });
    return { kind: 'created', proto: placed.proto, profile, name: input.name, body: placed.body, expiresAt: placed.expiresAt };
  } catch (err) {
    if (err instanceof AppError && err.code === 'service_unavailable') return { kind: 'unavailable' };
    throw err;
  }
}

/** Deletes one of the user's own portal configs and tells its node; false when there is no such config of theirs. */
export async function deletePortalConfig(db: Db, notifier: NodeNotifier, userId: string, kind: PortalConfigKind, id: string, now: number): Promise<boolean> {
  const nodeId = await findPortalConfigNode(db, userId, kind, id);
  if (nodeId === undefined) return false;
  const change: Change = kind === 'wireguard' ? { op: 'peer_remove', public_key: id } : { op: 'cert_remove', common_name: id };
  await applyNodeChange(db, notifier, deletePortalConfigStatements(db, userId, kind, id, now), new Map([[nodeId, [change]]]));
  return true;
}

const safe = (part: string) => part.replace(/[^A-Za-z0-9._-]+/g, '_');

/** Upstream's download name: `<server>_<profile>_<yyyymmdd>_<name>.ovpn`. */
export function openvpnFileName(host: string, profileId: string, now: number, name: string): string {
  const day = new Date(now).toISOString().slice(0, 10).replace(/-/g, '');
  return `${safe(host)}_${safe(profileId)}_${day}_${safe(name)}.ovpn`;
}

/**
 * `<name>.conf`; the WireGuard apps and wg-quick take the tunnel name from the file name and
 * accept at most 15 characters, so the name is cut there.
 */
export function wireguardFileName(name: string): string {
  return `${safe(name).slice(0, 15)}.conf`;
}
