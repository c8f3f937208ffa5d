import { describe, expect, it } from 'vitest';
import { identityFrom, permissionsFrom } from '../src/sso/claims.ts';
import { isLoopbackHost, parseSsoConfig, secretName, type OidcProvider } from '../src/config/sso.ts';
import { Browser } from './helpers.ts';

const UNI = { id: 'uni', name: 'University', issuer: 'https://idp.example.org', client_id: 'edgeport' };

function parse(providers: unknown, extra: Record<string, unknown> = {}) {
  return parseSsoConfig({ OIDC_PROVIDERS: typeof providers === 'string' ? providers : JSON.stringify(providers), OIDC_CLIENT_SECRET_UNI: 's3cret', ...extra }, 720);
}

describe('OIDC_PROVIDERS and the SSO vars', () => {
  it('parses a provider and fills in the defaults', () => {
    const { config, issues } = parse([UNI]);
    expect(issues).toEqual([]);
    expect(config).toEqual({
      providers: [
        {
          id: 'uni',
          name: 'University',
          issuer: 'https://idp.example.org',
          clientId: 'edgeport',
          clientSecret: 's3cret',
          scopes: ['openid'],
          userIdClaim: 'sub',
          permissionsClaim: null,
          adminPermissions: [],
          userinfo: false,
          insecure: false,
        },
      ],
      localLogin: true,
      recheckOnConnect: false,
      permissionsMaxAgeMs: 720 * 60_000,
    });
  });

  it('takes every field of the contract', () => {
    const full = {
      ...UNI,
      issuer: 'http://127.0.0.1:4011',
      scopes: ['openid', 'profile', 'groups'],
      user_id_claim: 'uid',
      permissions_claim: 'groups',
      admin_permissions: ['vpn-admins'],
      userinfo: true,
    };
    const { config, issues } = parse([full], { LOCAL_LOGIN: 'false', SSO_RECHECK_ON_CONNECT: 'true', SSO_PERMISSIONS_MAX_AGE_MINUTES: '60' });
    expect(issues).toEqual([]);
    expect(config.providers[0]).toMatchObject({
      scopes: ['openid', 'profile', 'groups'],
      userIdClaim: 'uid',
      permissionsClaim: 'groups',
      adminPermissions: ['vpn-admins'],
      userinfo: true,
      insecure: true,
    });
    expect(config).toMatchObject({ localLogin: false, recheckOnConnect: true, permissionsMaxAgeMs: 3_600_000 });
  });

  it('no providers: local login only, and nothing to complain about', () => {
    expect(parseSsoConfig({}, 720)).toEqual({ config: { providers: [], localLogin: true, recheckOnConnect: false, permissionsMaxAgeMs: 720 * 60_000 }, issues: [] });
  });

  it.each([
    ['id', { ...UNI, id: 'Uni' }, 'OIDC_PROVIDERS[0].id:'],
    ['id too long', { ...UNI, id: 'a'.repeat(33) }, 'OIDC_PROVIDERS[0].id:'],
    ['name', { ...UNI, name: '' }, 'OIDC_PROVIDERS[0].name:'],
    ['issuer not a URL', { ...UNI, issuer: 'idp.example.org' }, 'OIDC_PROVIDERS[0].issuer: not a URL'],
    ['issuer with a query', { ...UNI, issuer: 'https://idp.example.org/?a=1' }, 'OIDC_PROVIDERS[0].issuer: an issuer has no query'],
    ['client_id', { ...UNI, client_id: undefined }, 'OIDC_PROVIDERS[0].client_id:'],
    ['scopes without openid', { ...UNI, scopes: ['profile'] }, 'OIDC_PROVIDERS[0].scopes: must include "openid"'],
    ['a scope with a space', { ...UNI, scopes: ['openid', 'a b'] }, 'OIDC_PROVIDERS[0].scopes[1]:'],
    ['user_id_claim', { ...UNI, user_id_claim: '' }, 'OIDC_PROVIDERS[0].user_id_claim:'],
    ['permissions_claim', { ...UNI, permissions_claim: 7 }, 'OIDC_PROVIDERS[0].permissions_claim:'],
    ['admin_permissions', { ...UNI, admin_permissions: 'vpn-admins' }, 'OIDC_PROVIDERS[0].admin_permissions:'],
    ['userinfo', { ...UNI, userinfo: 'yes' }, 'OIDC_PROVIDERS[0].userinfo:'],
    ['a misspelt key', { ...UNI, permission_claim: 'groups' }, 'OIDC_PROVIDERS[0]: Unrecognized key: "permission_claim"'],
  ])('names the bad field: %s', (_label, provider, message) => {
    const { issues } = parse([provider]);
    expect(issues.join('\n')).toContain(message);
  });

  it('refuses plain http off loopback, and accepts it on 127.0.0.0/8, localhost and [::1]', () => {
    expect(parse([{ ...UNI, issuer: 'http://idp.example.org' }]).issues).toEqual(['OIDC_PROVIDERS[0].issuer: must be https (plain http only on loopback hosts: 127.0.0.0/8, localhost, [::1])']);
    expect(parse([{ ...UNI, issuer: 'http://10.0.0.1:4011' }]).issues).toHaveLength(1);
    expect(parse([{ ...UNI, issuer: 'http://127.0.0.1.example.org' }]).issues).toHaveLength(1);
    for (const issuer of ['http://127.0.0.1:4011', 'http://127.9.8.7', 'http://localhost:8080/realms/x', 'http://[::1]:4011']) {
      expect(parse([{ ...UNI, issuer }]).issues, issuer).toEqual([]);
    }
    expect(isLoopbackHost('localhost.example.org')).toBe(false);
  });

  it('names the missing client secret, upper-cased with "-" as "_"', () => {
    expect(secretName('my-uni')).toBe('OIDC_CLIENT_SECRET_MY_UNI');
    const { issues } = parseSsoConfig({ OIDC_PROVIDERS: JSON.stringify([{ ...UNI, id: 'my-uni' }]) }, 720);
    expect(issues).toEqual(['OIDC_CLIENT_SECRET_MY_UNI: the client secret of provider "my-uni" is not set']);
  });

  it('refuses JSON that is not JSON, not a list, and ids used twice', () => {
    expect(parse('[{').issues).toEqual(['OIDC_PROVIDERS: not valid JSON (a JSON array of providers)']);
    expect(parse(UNI).issues.join()).toContain('OIDC_PROVIDERS:');
    expect(parse([UNI, { ...UNI, name: 'Again' }]).issues).toEqual(['OIDC_PROVIDERS[1].id: "uni" is used twice']);
  });

  it('checks the flags, the recheck age, and that someone can still sign in', () => {
    expect(parse([UNI], { LOCAL_LOGIN: 'no' }).issues).toEqual(['LOCAL_LOGIN: must be "true" or "false"']);
    expect(parse([UNI], { SSO_RECHECK_ON_CONNECT: '1' }).issues).toEqual(['SSO_RECHECK_ON_CONNECT: must be "true" or "false"']);
    expect(parse([UNI], { SSO_PERMISSIONS_MAX_AGE_MINUTES: '0' }).issues).toEqual(['SSO_PERMISSIONS_MAX_AGE_MINUTES: a whole number of minutes, 1 or more']);
    expect(parseSsoConfig({ LOCAL_LOGIN: 'false' }, 720).issues).toEqual(['LOCAL_LOGIN: "false" needs at least one provider in OIDC_PROVIDERS']);
  });

  it('a bad configuration is a server fault: 500 on every page, the cause only in the log', async () => {
    const b = new Browser('d1', undefined, undefined, { OIDC_PROVIDERS: JSON.stringify([{ ...UNI, issuer: 'http://idp.example.org' }]) });
    const r = await b.fetch('/login');
    expect(r.status).toBe(500);
    expect(await r.text()).not.toContain('idp.example.org');
  });
});

const provider: OidcProvider = {
  id: 'uni',
  name: 'University',
  issuer: 'https://idp.example.org',
  clientId: 'edgeport',
  clientSecret: 'x',
  scopes: ['openid'],
  userIdClaim: 'sub',
  permissionsClaim: 'groups',
  adminPermissions: ['vpn-admins', 'root'],
  userinfo: false,
  insecure: false,
};

describe('claims to user', () => {
  it('takes permissions from a string or a list of strings, ignoring anything else', () => {
    expect(permissionsFrom('staff')).toEqual(['staff']);
    expect(permissionsFrom(['staff', 'vpn', 'staff'])).toEqual(['staff', 'vpn']);
    expect(permissionsFrom(['staff', 7, null, { a: 1 }, '', ['x'], 'x'.repeat(256)])).toEqual(['staff']);
    expect(permissionsFrom(undefined)).toEqual([]);
    expect(permissionsFrom(42)).toEqual([]);
    expect(permissionsFrom({ staff: true })).toEqual([]);
  });

  it('maps the user id, the permissions, the admin role and the name', () => {
    expect(identityFrom(provider, { sub: 'alice', groups: ['staff', 'vpn-admins'], name: ' Alice A. ' })).toEqual({
      ok: true,
      identity: { userId: 'alice', permissions: ['staff', 'vpn-admins'], isAdmin: true, displayName: 'Alice A.' },
    });
    expect(identityFrom(provider, { sub: 'bob', groups: 'root' })).toEqual({ ok: true, identity: { userId: 'bob', permissions: ['root'], isAdmin: true, displayName: null } });
    expect(identityFrom(provider, { sub: 'carol', groups: ['staff'] })).toMatchObject({ ok: true, identity: { isAdmin: false } });
  });

  it('grants nothing without the permissions claim, or when the provider names none', () => {
    expect(identityFrom(provider, { sub: 'dave' })).toMatchObject({ ok: true, identity: { permissions: [], isAdmin: false } });
    expect(identityFrom({ ...provider, permissionsClaim: null }, { sub: 'erin', groups: ['vpn-admins'] })).toMatchObject({ ok: true, identity: { permissions: [], isAdmin: false } });
  });

  it('takes the id from user_id_claim', () => {
    expect(identityFrom({ ...provider, userIdClaim: 'uid' }, { sub: 'opaque-1', uid: 'frank' })).toMatchObject({ ok: true, identity: { userId: 'frank' } });
  });

  it.each([
    ['missing', {}],
    ['empty', { uid: '' }],
    ['not a string', { uid: 42 }],
    ['a list', { uid: ['frank'] }],
    ['too long', { uid: 'x'.repeat(256) }],
  ])('refuses a user id claim that is %s', (_label, claims) => {
    const r = identityFrom({ ...provider, userIdClaim: 'uid' }, { sub: 'opaque-1', ...claims });
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.message).toContain('"uid" claim');
  });

  it('keeps an id of exactly 255 characters', () => {
    expect(identityFrom(provider, { sub: 'x'.repeat(255) })).toMatchObject({ ok: true, identity: { userId: 'x'.repeat(255) } });
  });
});
