/**
 * What a placement takes and gives back, and what its node attempts share; the steps themselves
 * are in the files beside this one (index.ts says which).
 */
import type { Change } from '@edgeport/schema';
import type { Config } from '../../config/config.ts';
import type { Db } from '../../core/db.ts';
import type { AuditContext } from '../../store/audit.ts';
import type { deleteConfigsOfAuthorization } from '../../store/configs.ts';
import type { servingNodes } from '../../store/nodes.ts';
import type { NodeNotifier } from '../node-door.ts';
import type { ProfileConfig } from '../profile.ts';
import type { VpnProto } from '../protocol.ts';

export interface PlacementDeps {
  db: Db;
  config: Config;
  notifier: NodeNotifier;
  now: number;
  random: () => number;
  portalUrl: string;
  audit: AuditContext;
}

export interface ConnectResult {
  contentType: string;
  body: string;
  expiresAt: number;
}

/**
 * Whose config is placed: an app's (under its OAuth authorization) or one made in the browser
 * portal (no authorization; the row then carries the device name the user typed). Callers check
 * the profile ACL first, as each answers a refusal its own way (API 404, portal form error).
 */
export interface ConfigOwner {
  userId: string;
  authorizationId: string | null;
  /** The row's display_name: the app's client id, or the portal config's name. */
  displayName: string;
  expiresAt: number;
}

/** What a placement removes in the same batch as its insert (the configs an app connect replaces). */
export interface Clearing {
  statements: ReturnType<typeof deleteConfigsOfAuthorization>;
  removals: Map<string, Change[]>;
  /** Authorizations whose addresses count as free (they are deleted in the same batch). */
  replaced: string[];
}

export interface PlacementRequest {
  profile: ProfileConfig;
  /** The protocols to try, best first; each is tried on every usable node before the next. */
  order: VpnProto[];
  preferTcp: boolean;
  /** The client's WireGuard key; the private key only for portal downloads, which include it. */
  wireguard: { publicKey: string; privateKey?: string } | null;
}

export type WireguardKeys = NonNullable<PlacementRequest['wireguard']>;

export interface Placed extends ConnectResult {
  proto: VpnProto;
}

export type ServingNode = Awaited<ReturnType<typeof servingNodes>>[number];

/** What every node attempt of one placement shares. */
export interface Plan {
  deps: PlacementDeps;
  owner: ConfigOwner;
  profile: ProfileConfig;
  /** Statements removing the configs this placement replaces; emptied once committed. */
  clearing: Clearing['statements'];
  /** What those removals mean to the nodes that held the configs; emptied once sent. */
  removals: Map<string, Change[]>;
  replaced: string[];
}
