import type { Db } from '../core/db.ts';
import { auditInsert, type AuditContext } from './audit.ts';
import { logWireguardEnd } from './connection-log.ts';

export interface NodeProfileAssignment {
  profile_id: string;
  /** Overrides the node's host name for this profile's clients. */
  host_name: string | null;
  /** null: this node uses the profile's own ranges (only one node of a profile may). */
  wireguard: { range_four: string; range_six: string } | null;
  openvpn: { range_four: string; range_six: string } | null;
}

export interface NodeConfig {
  id: string;
  name: string;
  host_name: string;
  wg_public_key: string | null;
  profiles: NodeProfileAssignment[];
}

/** What a create or an edit writes: without `wg_public_key` the stored key stays as it is. */
export type NodeInput = Omit<NodeConfig, 'wg_public_key'> & { wg_public_key?: string | null };

export type KeyPinning = 'pinned' | 'unchanged' | 'different' | 'no_node';

/**
 * Pins the key a node reports when none is stored (upstream registers a node's key on first
 * contact); a different stored key stays until an admin forgets it.
 */
export async function pinWireguardKey(db: Db, nodeId: string, key: string): Promise<KeyPinning> {
  const r = await db.kysely.updateTable('nodes').set({ wg_public_key: key }).where('id', '=', nodeId).where('wg_public_key', 'is', null).executeTakeFirst();
  if (Number(r.numUpdatedRows) > 0) return 'pinned';
  const row = await db.kysely.selectFrom('nodes').select('wg_public_key').where('id', '=', nodeId).executeTakeFirst();
  if (!row) return 'no_node';
  return row.wg_public_key === key ? 'unchanged' : 'different';
}

export interface NodeView extends NodeConfig {
  created_at: number;
  revoked_at: number | null;
}

function pair(four: string | null, six: string | null) {
  return four && six ? { range_four: four, range_six: six } : null;
}

export async function listNodes(db: Db): Promise<NodeView[]> {
  const [nodes, rows] = await Promise.all([db.kysely.selectFrom('nodes').selectAll().orderBy('id').execute(), db.kysely.selectFrom('node_profiles').selectAll().orderBy('profile_id').execute()]);
  return nodes.map((n) => ({
    id: n.id,
    name: n.name,
    host_name: n.host_name,
    wg_public_key: n.wg_public_key,
    created_at: n.created_at,
    revoked_at: n.revoked_at,
    profiles: rows
      .filter((r) => r.node_id === n.id)
      .map((r) => ({ profile_id: r.profile_id, host_name: r.host_name, wireguard: pair(r.wg_range_four, r.wg_range_six), openvpn: pair(r.ovpn_range_four, r.ovpn_range_six) })),
  }));
}

export async function getNode(db: Db, id: string): Promise<NodeView | null> {
  return (await listNodes(db)).find((n) => n.id === id) ?? null;
}

function assignmentRows(db: Db, node: NodeInput) {
  return node.profiles.map((p) =>
    db.kysely.insertInto('node_profiles').values({
      node_id: node.id,
      profile_id: p.profile_id,
      host_name: p.host_name,
      wg_range_four: p.wireguard?.range_four ?? null,
      wg_range_six: p.wireguard?.range_six ?? null,
      ovpn_range_four: p.openvpn?.range_four ?? null,
      ovpn_range_six: p.openvpn?.range_six ?? null,
    }),
  );
}

export function createNodeStatements(db: Db, node: NodeInput, now: number, audit: AuditContext) {
  return [
    db.kysely.insertInto('nodes').values({ id: node.id, name: node.name, host_name: node.host_name, wg_public_key: node.wg_public_key ?? null, created_at: now, revoked_at: null }),
    ...assignmentRows(db, node),
    auditInsert(db, audit, now, 'node.create', 'node', node.id, null, node),
  ];
}

/** Replaces the node's settings and assignments together. */
export function updateNodeStatements(db: Db, before: NodeConfig, node: NodeInput, now: number, audit: AuditContext) {
  // The key is the node's own report: only an edit that names it (a key, or null to forget it) writes it.
  const key = node.wg_public_key === undefined ? {} : { wg_public_key: node.wg_public_key };
  return [
    db.kysely
      .updateTable('nodes')
      .set({ name: node.name, host_name: node.host_name, ...key })
      .where('id', '=', node.id),
    db.kysely.deleteFrom('node_profiles').where('node_id', '=', node.id),
    ...assignmentRows(db, node),
    // Configurations for profiles this node no longer serves cannot work any more.
    ...configsOutside(db, node),
    auditInsert(db, audit, now, 'node.update', 'node', node.id, before, node),
  ];
}

function configsOutside(db: Db, node: NodeInput) {
  const served = node.profiles.map((p) => p.profile_id);
  const peers = db.kysely.deleteFrom('wg_peers').where('node_id', '=', node.id);
  const certs = db.kysely.deleteFrom('certificates').where('node_id', '=', node.id);
  return served.length ? [peers.where('profile_id', 'not in', served), certs.where('profile_id', 'not in', served)] : [peers, certs];
}

/** Deletes the node with its assignments and the configurations that pointed at it. */
export function deleteNodeStatements(db: Db, before: NodeConfig, now: number, audit: AuditContext) {
  return [
    logWireguardEnd(db, 'node_id', before.id, now),
    db.kysely.deleteFrom('wg_peers').where('node_id', '=', before.id),
    db.kysely.deleteFrom('certificates').where('node_id', '=', before.id),
    db.kysely.deleteFrom('node_profiles').where('node_id', '=', before.id),
    db.kysely.deleteFrom('node_status').where('node_id', '=', before.id),
    db.kysely.deleteFrom('nodes').where('id', '=', before.id),
    auditInsert(db, audit, now, 'node.delete', 'node', before.id, before, null),
  ];
}

/** Whether the node exists and whether it is revoked: what enrollment and revocation check first. */
export async function findNodeRevocation(db: Db, nodeId: string) {
  return db.kysely.selectFrom('nodes').select(['id', 'revoked_at']).where('id', '=', nodeId).executeTakeFirst();
}

/** Stores a new enrollment token's hash, replacing any earlier one; the credential is left alone. */
export function startEnrollmentStatements(db: Db, nodeId: string, enrollmentHash: string, expiresAt: number, now: number, audit: AuditContext) {
  return [
    db.kysely.updateTable('nodes').set({ enrollment_hash: enrollmentHash, enrollment_expires_at: expiresAt }).where('id', '=', nodeId),
    auditInsert(db, audit, now, 'node.enrollment', 'node', nodeId, null, { expires_at: expiresAt }),
  ];
}

export async function findEnrollment(db: Db, nodeId: string) {
  return db.kysely.selectFrom('nodes').select(['id', 'enrollment_hash', 'enrollment_expires_at', 'revoked_at']).where('id', '=', nodeId).executeTakeFirst();
}

/**
 * Trades the enrollment token (by its hash) for the credential's hash; true when this call did.
 * The condition on the token hash is what makes the token single-use across every portal instance.
 */
export async function redeemEnrollment(db: Db, nodeId: string, enrollmentHash: string, credentialHash: string, now: number): Promise<boolean> {
  const r = await db.kysely
    .updateTable('nodes')
    .set({ credential_hash: credentialHash, enrollment_hash: null, enrollment_expires_at: null, enrolled_at: now })
    .where('id', '=', nodeId)
    .where('enrollment_hash', '=', enrollmentHash)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function findNodeCredential(db: Db, nodeId: string) {
  return db.kysely.selectFrom('nodes').select(['id', 'credential_hash', 'revoked_at']).where('id', '=', nodeId).executeTakeFirst();
}

/** Revoking drops every secret the node could use; its configurations stay for the log. */
export function revokeNodeStatements(db: Db, before: { revoked_at: number | null }, nodeId: string, now: number, audit: AuditContext) {
  return [
    db.kysely.updateTable('nodes').set({ revoked_at: now, credential_hash: null, enrollment_hash: null, enrollment_expires_at: null }).where('id', '=', nodeId),
    auditInsert(db, audit, now, 'node.revoke', 'node', nodeId, { revoked_at: before.revoked_at }, { revoked_at: now }),
  ];
}

/** The profiles a node serves, each with this node's own ranges (null: the profile's), by profile id. */
export async function assignedProfilesOf(db: Db, nodeId: string) {
  return db.kysely
    .selectFrom('node_profiles')
    .innerJoin('profiles', 'profiles.id', 'node_profiles.profile_id')
    .selectAll('profiles')
    .select(['node_profiles.wg_range_four as n_wg4', 'node_profiles.wg_range_six as n_wg6', 'node_profiles.ovpn_range_four as n_ov4', 'node_profiles.ovpn_range_six as n_ov6'])
    .where('node_profiles.node_id', '=', nodeId)
    .orderBy('profiles.id')
    .execute();
}

/** One assignment of a profile to a node, with the profile and the node's host name and revocation. */
export async function findAssignment(db: Db, nodeId: string, profileId: string) {
  return db.kysely
    .selectFrom('node_profiles')
    .innerJoin('nodes', 'nodes.id', 'node_profiles.node_id')
    .innerJoin('profiles', 'profiles.id', 'node_profiles.profile_id')
    .selectAll('profiles')
    .select(['nodes.host_name as node_host', 'nodes.revoked_at as node_revoked_at', 'node_profiles.host_name as assigned_host'])
    .where('node_profiles.node_id', '=', nodeId)
    .where('node_profiles.profile_id', '=', profileId)
    .executeTakeFirst();
}

/** Nodes assigned to a profile and not revoked, with the host and ranges its clients use there. */
export async function servingNodes(db: Db, profileId: string) {
  return db.kysely
    .selectFrom('node_profiles')
    .innerJoin('nodes', 'nodes.id', 'node_profiles.node_id')
    .select([
      'nodes.id as node_id',
      'nodes.host_name as node_host',
      'nodes.wg_public_key',
      'node_profiles.host_name',
      'node_profiles.wg_range_four',
      'node_profiles.wg_range_six',
      'node_profiles.ovpn_range_four',
      'node_profiles.ovpn_range_six',
    ])
    .where('node_profiles.profile_id', '=', profileId)
    .where('nodes.revoked_at', 'is', null)
    .execute();
}

/** What a node reported last (node_status, written by its NodeChannel), as the heartbeat frame says it. */
export interface NodeLoad {
  load_average: number[];
  cpu_count: number;
  uptime_s: number;
}

export interface NodeSessions {
  at: number;
  peers: number;
  clients: number;
  counts: { profile_id: string; protocol: 'wireguard' | 'openvpn'; count: number }[];
}

/** A node's enrollment and the channel's last record of it; no credential material leaves the store. */
export interface NodeState {
  id: string;
  enrolled: boolean;
  enrolled_at: number | null;
  /** An outstanding enrollment token's expiry (the token itself is only ever shown once). */
  enrollment_expires_at: number | null;
  revoked_at: number | null;
  connected: boolean;
  last_seen_at: number | null;
  agent_version: string | null;
  applied_revision: number | null;
  /** The channel's revision when it last wrote this row (it writes on every status update of the node). */
  wanted_revision: number | null;
  load: NodeLoad | null;
  sessions: NodeSessions | null;
}

// The channel writes these columns from frames it validated, so they are trusted JSON.
const parsed = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

/** Enrollment and last reported status per node, keyed by node id (one node when `id` is given). */
export async function nodeStates(db: Db, id?: string): Promise<Map<string, NodeState>> {
  let q = db.kysely
    .selectFrom('nodes')
    .leftJoin('node_status', 'node_status.node_id', 'nodes.id')
    .select([
      'nodes.id',
      'nodes.credential_hash',
      'nodes.enrolled_at',
      'nodes.enrollment_expires_at',
      'nodes.revoked_at',
      'node_status.connected',
      'node_status.last_seen_at',
      'node_status.agent_version',
      'node_status.applied_revision',
      'node_status.wanted_revision',
      'node_status.load_json',
      'node_status.sessions_json',
    ]);
  if (id !== undefined) q = q.where('nodes.id', '=', id);
  const rows = await q.execute();
  return new Map(
    rows.map((r) => [
      r.id,
      {
        id: r.id,
        enrolled: r.credential_hash !== null,
        enrolled_at: r.enrolled_at,
        enrollment_expires_at: r.enrollment_expires_at,
        revoked_at: r.revoked_at,
        connected: Number(r.connected) === 1,
        last_seen_at: r.last_seen_at,
        agent_version: r.agent_version,
        applied_revision: r.applied_revision,
        wanted_revision: r.wanted_revision,
        load: parsed<NodeLoad>(r.load_json),
        sessions: parsed<NodeSessions>(r.sessions_json),
      },
    ]),
  );
}
