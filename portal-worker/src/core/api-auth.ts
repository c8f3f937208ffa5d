/** Who an app's bearer token speaks for, checked against its authorization on every call (middleware sets it). */
export interface ApiAuth {
  authorizationId: string;
  userId: string;
  clientId: string;
  expiresAt: number;
  permissions: string[];
  /** The OpenID provider the user signs in with (null: local), and when it last gave the permissions. */
  authProvider: string | null;
  permissionsAt: number | null;
}
