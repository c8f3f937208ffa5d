import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

// Conventions shared by both dialects (SQLite/D1 and MySQL/PlanetScale):
// - timestamps are epoch milliseconds in BIGINT columns (the PlanetScale dialect is set up to
//   cast INT64 back to a JS number, so both dialects read numbers);
// - booleans are 0/1 integers, because SQLite has no boolean type;
// - lists and maps are JSON text, parsed by the store layer, never by SQL;
// - every id that is compared is case-sensitive (MySQL tables use utf8mb4_bin), like SQLite.

export type Flag = 0 | 1;
export type Millis = number;

export interface UsersTable {
  id: string;
  display_name: string | null;
  is_admin: Flag;
  is_disabled: Flag;
  /** JSON string[]: permissions from the identity source; drives profile ACLs. */
  permissions: string;
  created_at: Millis;
  last_seen_at: Millis | null;
  /** NULL for local and admin-created users; else the id of the OpenID provider that signs the user in. */
  auth_provider: string | null;
  /** When a provider last set `permissions` (SSO users only). */
  permissions_at: Millis | null;
}

export interface LocalAccountsTable {
  user_id: string;
  password_hash: string;
  created_at: Millis;
  updated_at: Millis;
}

export interface BrowserSessionsTable {
  /** SHA-256 (hex) of the cookie secret, so a database leak does not hand out live sessions. */
  id_hash: string;
  user_id: string;
  created_at: Millis;
  last_seen_at: Millis;
  expires_at: Millis;
  user_agent: string | null;
}

export interface ProfilesTable {
  id: string;
  display_name: string;
  host_name: string;
  default_gateway: Flag;
  dns_servers: string;
  dns_search_domains: string;
  routes: string;
  exclude_routes: string;
  /** JSON string[] or NULL: NULL means every user may use the profile. */
  acl_permissions: string | null;
  wg_enabled: Flag;
  wg_range_four: string | null;
  wg_range_six: string | null;
  wg_port: number;
  ovpn_enabled: Flag;
  ovpn_range_four: string | null;
  ovpn_range_six: string | null;
  ovpn_udp_ports: string;
  ovpn_tcp_ports: string;
  preferred_proto: 'openvpn' | 'wireguard';
  tls_crypt_key: string | null;
  created_at: Millis;
  updated_at: Millis;
}

export interface NodesTable {
  id: string;
  name: string;
  host_name: string;
  created_at: Millis;
  revoked_at: Millis | null;
  wg_public_key: string | null;
  enrollment_hash: string | null;
  enrollment_expires_at: Millis | null;
  credential_hash: string | null;
  enrolled_at: Millis | null;
}

export interface NodeStatusTable {
  node_id: string;
  agent_version: string | null;
  applied_revision: number | null;
  wanted_revision: number | null;
  connected: Flag;
  last_seen_at: Millis | null;
  load_json: string | null;
  sessions_json: string | null;
  updated_at: Millis;
}

/** Which node serves which profile, with that node's own disjoint address ranges. */
export interface NodeProfilesTable {
  node_id: string;
  profile_id: string;
  host_name: string | null;
  wg_range_four: string | null;
  wg_range_six: string | null;
  ovpn_range_four: string | null;
  ovpn_range_six: string | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: Millis;
  actor_user_id: string | null;
  action: string;
  target_type: string;
  target_id: string;
  /** JSON of the row before and after the change (secrets never included). */
  before_json: string | null;
  after_json: string | null;
  request_id: string | null;
}

export interface SchemaMigrationsTable {
  name: string;
  /** 'running' while one instance applies it; 'done' after. */
  state: 'running' | 'done';
  started_at: Millis;
  finished_at: Millis | null;
}

export interface OAuthClientsTable {
  id: string;
  name: string;
  /** JSON string[]; `{PORT}` stands for any port on the loopback hosts. */
  redirect_uris: string;
  requires_approval: Flag;
  created_at: Millis;
}

export interface OAuthAuthorizationsTable {
  id: string;
  user_id: string;
  client_id: string;
  scope: string;
  created_at: Millis;
  expires_at: Millis;
  refresh_seq: number;
  last_used_at: Millis | null;
}

export interface OAuthCodesTable {
  code_hash: string;
  user_id: string;
  client_id: string;
  redirect_uri: string;
  code_challenge: string;
  scope: string;
  created_at: Millis;
  expires_at: Millis;
  used_at: Millis | null;
  authorization_id: string | null;
}

export interface WgPeersTable {
  public_key: string;
  profile_id: string;
  node_id: string;
  user_id: string;
  /** NULL for configurations made in the browser portal (not by an app). */
  authorization_id: string | null;
  display_name: string;
  ip_four: string;
  ip_six: string;
  created_at: Millis;
  expires_at: Millis;
}

export interface CertificatesTable {
  common_name: string;
  profile_id: string;
  node_id: string;
  user_id: string;
  authorization_id: string | null;
  display_name: string;
  created_at: Millis;
  expires_at: Millis;
}

/** A login started at an OpenID provider, waiting for its callback (single use, 10 minutes). */
export interface SsoStatesTable {
  /** SHA-256 (hex) of the `state` parameter. */
  state_hash: string;
  provider_id: string;
  /** SHA-256 (hex) of the browser's `edgeport_sso` cookie. */
  browser_hash: string;
  nonce: string;
  code_verifier: string;
  /** The same-site path to go to after the login. */
  next: string;
  created_at: Millis;
  expires_at: Millis;
  used_at: Millis | null;
}

export interface ConnectionLogTable {
  id: Generated<number>;
  user_id: string;
  profile_id: string;
  node_id: string;
  vpn_proto: 'wireguard' | 'openvpn';
  /** WireGuard public key or OpenVPN certificate CN. */
  connection_id: string;
  ip_four: string | null;
  ip_six: string | null;
  originating_ip: string | null;
  connected_at: Millis;
  disconnected_at: Millis | null;
  bytes_in: number | null;
  bytes_out: number | null;
}

export interface SessionStatsTable {
  node_id: string;
  profile_id: string;
  vpn_proto: 'wireguard' | 'openvpn';
  /** Epoch ms of the minute's start. */
  minute: Millis;
  sessions: number;
}

export interface Database {
  sso_states: SsoStatesTable;
  connection_log: ConnectionLogTable;
  session_stats: SessionStatsTable;
  node_status: NodeStatusTable;
  wg_peers: WgPeersTable;
  certificates: CertificatesTable;
  oauth_clients: OAuthClientsTable;
  oauth_authorizations: OAuthAuthorizationsTable;
  oauth_codes: OAuthCodesTable;
  users: UsersTable;
  local_accounts: LocalAccountsTable;
  browser_sessions: BrowserSessionsTable;
  profiles: ProfilesTable;
  nodes: NodesTable;
  node_profiles: NodeProfilesTable;
  audit_log: AuditLogTable;
  schema_migrations: SchemaMigrationsTable;
}

export type User = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type Profile = Selectable<ProfilesTable>;
export type NewProfile = Insertable<ProfilesTable>;
export type ProfileUpdate = Updateable<ProfilesTable>;
export type BrowserSession = Selectable<BrowserSessionsTable>;
export type OAuthAuthorization = Selectable<OAuthAuthorizationsTable>;
export type AuditEntry = Selectable<AuditLogTable>;
export type NewAuditEntry = Insertable<AuditLogTable>;
export type { ColumnType };
