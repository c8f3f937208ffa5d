import type { Profile } from '@edgeport/schema';
import type { Db } from '../core/db.ts';
import type { ProfileConfig, RangeInUse, WireguardOnNode } from '../core/profile-config.ts';
import { parseList, parseNumbers } from './json.ts';
import { logWireguardEnd } from './connection-log.ts';
import { auditInsert, type AuditContext } from './audit.ts';

export function fromRow(r: Profile): ProfileConfig {
  return {
    id: r.id,
    display_name: r.display_name,
    host_name: r.host_name,
    default_gateway: r.default_gateway === 1,
    dns_servers: parseList(r.dns_servers),
    dns_search_domains: parseList(r.dns_search_domains),
    routes: parseList(r.routes),
    exclude_routes: parseList(r.exclude_routes),
    acl_permissions: r.acl_permissions === null ? null : parseList(r.acl_permissions),
    wireguard: r.wg_enabled === 1 && r.wg_range_four && r.wg_range_six ? { range_four: r.wg_range_four, range_six: r.wg_range_six, port: r.wg_port } : null,
    openvpn:
      r.ovpn_enabled === 1 && r.ovpn_range_four && r.ovpn_range_six
        ? {
            range_four: r.ovpn_range_four,
            range_six: r.ovpn_range_six,
            udp_ports: parseNumbers(r.ovpn_udp_ports),
            tcp_ports: parseNumbers(r.ovpn_tcp_ports),
          }
        : null,
    preferred_proto: r.preferred_proto,
  };
}

function columns(p: ProfileConfig) {
  return {
    display_name: p.display_name,
    host_name: p.host_name,
    default_gateway: p.default_gateway ? (1 as const) : (0 as const),
    dns_servers: JSON.stringify(p.dns_servers),
    dns_search_domains: JSON.stringify(p.dns_search_domains),
    routes: JSON.stringify(p.routes),
    exclude_routes: JSON.stringify(p.exclude_routes),
    acl_permissions: p.acl_permissions === null ? null : JSON.stringify(p.acl_permissions),
    wg_enabled: p.wireguard ? (1 as const) : (0 as const),
    wg_range_four: p.wireguard?.range_four ?? null,
    wg_range_six: p.wireguard?.range_six ?? null,
    wg_port: p.wireguard?.port ?? 51820,
    ovpn_enabled: p.openvpn ? (1 as const) : (0 as const),
    ovpn_range_four: p.openvpn?.range_four ?? null,
    ovpn_range_six: p.openvpn?.range_six ?? null,
    ovpn_udp_ports: JSON.stringify(p.openvpn?.udp_ports ?? []),
    ovpn_tcp_ports: JSON.stringify(p.openvpn?.tcp_ports ?? []),
    preferred_proto: p.preferred_proto,
  };
}

export async function listProfiles(db: Db): Promise<ProfileConfig[]> {
  const rows = await db.kysely.selectFrom('profiles').selectAll().orderBy('id').execute();
  return rows.map(fromRow);
}

export async function getProfile(db: Db, id: string): Promise<ProfileConfig | null> {
  const row = await db.kysely.selectFrom('profiles').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? fromRow(row) : null;
}

/** Every address range in service except those of `exceptProfile`, for overlap checks. */
export async function rangesInUse(db: Db, exceptProfile: string | null): Promise<RangeInUse[]> {
  const cols = ['wg_range_four', 'wg_range_six', 'ovpn_range_four', 'ovpn_range_six'] as const;
  const [profiles, nodeRanges] = await Promise.all([
    db.kysely
      .selectFrom('profiles')
      .select(['id', ...cols])
      .execute(),
    db.kysely
      .selectFrom('node_profiles')
      .select(['node_id', 'profile_id', ...cols])
      .execute(),
  ]);
  const out: RangeInUse[] = [];
  for (const p of profiles) {
    if (p.id === exceptProfile) continue;
    for (const c of cols) if (p[c]) out.push({ owner: `profile "${p.id}"`, cidr: p[c] as string });
  }
  // A profile's node ranges count against its own ranges too: they must stay disjoint.
  for (const n of nodeRanges) {
    for (const c of cols) if (n[c]) out.push({ owner: `profile "${n.profile_id}" on node "${n.node_id}"`, cidr: n[c] as string });
  }
  return out;
}

export function createProfileStatements(db: Db, p: ProfileConfig, now: number, audit: AuditContext) {
  return [
    db.kysely.insertInto('profiles').values({ id: p.id, ...columns(p), tls_crypt_key: null, created_at: now, updated_at: now }),
    auditInsert(db, audit, now, 'profile.create', 'profile', p.id, null, p),
  ];
}

export function updateProfileStatements(db: Db, before: ProfileConfig, p: ProfileConfig, now: number, audit: AuditContext) {
  return [
    db.kysely
      .updateTable('profiles')
      .set({ ...columns(p), updated_at: now })
      .where('id', '=', p.id),
    auditInsert(db, audit, now, 'profile.update', 'profile', p.id, before, p),
  ];
}

/** Deletes the profile with its node assignments and configurations (the cascade is ours, not the database's). */
export function deleteProfileStatements(db: Db, before: ProfileConfig, now: number, audit: AuditContext) {
  return [
    logWireguardEnd(db, 'profile_id', before.id, now),
    db.kysely.deleteFrom('wg_peers').where('profile_id', '=', before.id),
    db.kysely.deleteFrom('certificates').where('profile_id', '=', before.id),
    db.kysely.deleteFrom('node_profiles').where('profile_id', '=', before.id),
    db.kysely.deleteFrom('profiles').where('id', '=', before.id),
    auditInsert(db, audit, now, 'profile.delete', 'profile', before.id, before, null),
  ];
}

export async function nodesOfProfile(db: Db, profileId: string): Promise<string[]> {
  const rows = await db.kysely.selectFrom('node_profiles').select('node_id').where('profile_id', '=', profileId).execute();
  return rows.map((r) => r.node_id);
}

/**
 * Every WireGuard profile (this one included) on every node that serves `profileId`, revoked
 * nodes too: what decides the port each of those nodes listens on (`nodeWireguardPort`). A
 * profile counts as WireGuard by the rule `fromRow` uses, so this matches what the nodes run.
 */
export async function wireguardOnNodesOf(db: Db, profileId: string): Promise<WireguardOnNode[]> {
  return db.kysely
    .selectFrom('node_profiles')
    .innerJoin('profiles', 'profiles.id', 'node_profiles.profile_id')
    .select(['node_profiles.node_id', 'node_profiles.profile_id', 'profiles.wg_port as port'])
    .where('node_profiles.node_id', 'in', (eb) => eb.selectFrom('node_profiles').select('node_id').where('profile_id', '=', profileId))
    .where('profiles.wg_enabled', '=', 1)
    .where('profiles.wg_range_four', 'is not', null)
    .where('profiles.wg_range_six', 'is not', null)
    .orderBy('node_profiles.node_id')
    .orderBy('node_profiles.profile_id')
    .execute();
}

/** Profiles this user may use: an ACL of null admits everyone, else any shared permission (OR). */
export function allowedFor(profiles: ProfileConfig[], permissions: readonly string[]): ProfileConfig[] {
  return profiles.filter((p) => p.acl_permissions === null || p.acl_permissions.some((a) => permissions.includes(a)));
}

/**
 * The profile's OpenVPN tls-crypt key, made on first need and kept in the database so that every
 * portal instance and node uses the same one: the conditional update lets the first writer win.
 */
export async function ensureTlsCryptKey(db: Db, profileId: string, make: () => string): Promise<string> {
  const read = () => db.kysely.selectFrom('profiles').select('tls_crypt_key').where('id', '=', profileId).executeTakeFirst();
  const row = await read();
  if (row?.tls_crypt_key) return row.tls_crypt_key;
  await db.kysely.updateTable('profiles').set({ tls_crypt_key: make() }).where('id', '=', profileId).where('tls_crypt_key', 'is', null).execute();
  const again = await read();
  if (!again?.tls_crypt_key) throw new Error(`profile ${profileId} vanished while making its tls-crypt key`);
  return again.tls_crypt_key;
}
