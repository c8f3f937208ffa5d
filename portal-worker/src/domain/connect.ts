import type { Change } from '@edgeport/schema';
import type { Db } from '../core/db.ts';
import { AppError } from '../core/errors.ts';
import type { ApiAuth } from '../core/api-auth.ts';
import { activeApiAuthorizations, deleteConfigsOfAuthorization, deletePeerStatements, holderOfKey, removalsOf } from '../store/configs.ts';
import { servingNodes } from '../store/nodes.ts';
import { allowedFor, getProfile } from '../store/profiles.ts';
import { applyNodeChange, mergeChanges, type NodeChanges, type NodeNotifier } from './node-door.ts';
import { placeConfig, type Clearing, type ConfigOwner, type ConnectResult, type PlacementDeps, type PlacementRequest } from './placement/index.ts';
import { acceptedProtocols, protocolOrder, type VpnProto } from './protocol.ts';

export type ConnectDeps = PlacementDeps;
export type { ConnectResult };

// docs/eduvpn.md §1.3: the exact messages of the upstream error table.
const bad = (message: string) => new AppError('bad_request', message);

const WG_KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

function parseRequest(form: URLSearchParams) {
  const profileId = form.get('profile_id');
  if (!profileId || !/^[a-z0-9][a-z0-9._-]{0,62}$/.test(profileId)) throw bad('invalid value for "profile_id"');
  const preferTcpRaw = form.get('prefer_tcp') ?? (form.get('tcp_only') === null ? 'no' : form.get('tcp_only') === 'on' ? 'yes' : form.get('tcp_only') === 'off' ? 'no' : 'invalid');
  if (preferTcpRaw !== 'yes' && preferTcpRaw !== 'no') throw bad('invalid "prefer_tcp"');
  const publicKey = form.get('public_key');
  if (publicKey !== null && !WG_KEY.test(publicKey)) throw bad('invalid "public_key"');
  return { profileId, preferTcp: preferTcpRaw === 'yes', publicKey };
}

/**
 * SSO_RECHECK_ON_CONNECT: an app's token outlives the browser session (90 days by default), so
 * permissions a provider gave long ago may have been taken away since. With the recheck on, an
 * SSO user whose permissions are older than the limit must sign in to the portal again (which
 * refreshes them) before an app gets another config. Checked first: nothing is read or written.
 * Portal configs need no such check: their browser session is at most SESSION_MAX_MINUTES old.
 */
export function refuseStalePermissions(deps: Pick<ConnectDeps, 'config' | 'now'>, auth: ApiAuth): void {
  const { recheckOnConnect, permissionsMaxAgeMs } = deps.config.sso;
  if (!recheckOnConnect || auth.authProvider === null) return;
  if (auth.permissionsAt !== null && deps.now - auth.permissionsAt <= permissionsMaxAgeMs) return;
  throw new AppError('forbidden', 'your permissions are too old: sign in to the portal again');
}

/**
 * POST /api/v3/connect: a new config replaces this authorization's previous ones, the user's
 * oldest app configs beyond the limit are evicted, and the first usable node of the profile
 * (in random order) gets the peer or certificate.
 */
export async function connectCommand(deps: ConnectDeps, auth: ApiAuth, form: URLSearchParams, accept: string | undefined): Promise<ConnectResult> {
  refuseStalePermissions(deps, auth);
  const req = parseRequest(form);
  const max = deps.config.vpn.maxActiveApiConfigs;
  if (max === 0) throw new AppError('forbidden', 'no API configuration downloads allowed');
  // Independent reads go out together: on the edge every round trip to the database counts.
  const [profile, active, ownRemovals, serving, keyHolder] = await Promise.all([
    getProfile(deps.db, req.profileId),
    activeApiAuthorizations(deps.db, auth.userId, deps.now),
    removalsOf(deps.db, 'authorization_id', auth.authorizationId),
    servingNodes(deps.db, req.profileId),
    req.publicKey ? holderOfKey(deps.db, req.publicKey) : undefined,
  ]);
  if (!profile || allowedFor([profile], auth.permissions).length === 0) throw new AppError('not_found', 'no such "profile_id"');

  const accepted = acceptedProtocols(accept);
  if (accepted.has('wireguard') && !req.publicKey && profile.wireguard && !profile.openvpn) throw bad('missing "public_key" parameter');
  const order = protocolOrder(profile, accepted, req.publicKey !== null, req.preferTcp);
  if (!order.length) throw new AppError('not_acceptable', 'no common VPN protocol support between client and server profile');

  // Keep (max - 1) other authorizations' configs, so with this one the user holds at most max.
  const others = active.filter((a) => a.authorization_id !== auth.authorizationId);
  const evicted = others.slice(0, Math.max(0, others.length - (max - 1))).map((a) => a.authorization_id);
  // Only authorizations that hold configs get delete statements: empty deletes still lock ranges.
  const holding = [{ id: auth.authorizationId, removals: ownRemovals }, ...(await Promise.all(evicted.map(async (id) => ({ id, removals: await removalsOf(deps.db, 'authorization_id', id) }))))];
  const replaced = [auth.authorizationId, ...evicted];
  const again = keyHolder && req.publicKey ? sameKeyAgain(deps, auth, req.publicKey, keyHolder, replaced) : null;
  const clearing: Clearing = {
    statements: [...holding.filter((h) => h.removals.size).flatMap((h) => deleteConfigsOfAuthorization(deps.db, h.id)), ...(again?.statements ?? [])],
    removals: mergeChanges(...holding.map((h) => h.removals), ...(again ? [again.removals] : [])) as Map<string, Change[]>,
    replaced,
  };
  const owner: ConfigOwner = { userId: auth.userId, authorizationId: auth.authorizationId, displayName: auth.clientId, expiresAt: auth.expiresAt };
  const request: PlacementRequest = { profile, order, preferTcp: req.preferTcp, wireguard: req.publicKey ? { publicKey: req.publicKey } : null };
  return placeConfig(deps, owner, request, serving, clearing);
}

/**
 * An app that keeps one WireGuard key per server (the macOS and iOS apps do) and authorizes
 * again without a successful /disconnect comes back with a key its old authorization still
 * holds. Upstream (3.x) first removes that user's config with the same key, then connects; so do
 * we, in the same write as the new config. Another user's key stays a conflict (409).
 */
function sameKeyAgain(deps: ConnectDeps, auth: ApiAuth, publicKey: string, holder: KeyHolder, replaced: readonly string[]) {
  if (holder.user_id !== auth.userId) throw new AppError('conflict', 'this "public_key" is already in use');
  // Already cleared with its whole authorization (this one, or one evicted by the limit).
  if (holder.authorization_id !== null && replaced.includes(holder.authorization_id)) return null;
  const removals: NodeChanges = new Map([[holder.node_id, [{ op: 'peer_remove', public_key: publicKey } satisfies Change]]]);
  return { statements: deletePeerStatements(deps.db, publicKey, deps.now), removals };
}

type KeyHolder = NonNullable<Awaited<ReturnType<typeof holderOfKey>>>;

/** POST /api/v3/disconnect: every config of this authorization goes; the nodes are told (acks tracked, not awaited). */
export async function disconnectCommand(db: Db, notifier: NodeNotifier, auth: ApiAuth): Promise<void> {
  const removals = await removalsOf(db, 'authorization_id', auth.authorizationId);
  await applyNodeChange(db, notifier, deleteConfigsOfAuthorization(db, auth.authorizationId), removals);
}

export type { VpnProto };
