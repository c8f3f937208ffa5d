import '@abraham/reflection';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createCa, issueServerCertificate, loadCa } from '../../portal-worker/src/vpn/ca.ts';
import { certificateState } from '../src/openvpn/server-identity.ts';
import { assignTuns, type TunRange } from '../src/openvpn/tun-numbers.ts';
import { cpuHasAes } from '../src/ovpn-loop.ts';
import { findExecutable } from '../src/run.ts';

const dir = mkdtempSync(join(tmpdir(), 'ep-ovpn-loop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tun numbers', () => {
  type Ranges = Readonly<Record<string, readonly [number, number]>>;
  const m = (o: Ranges) => new Map(Object.entries(o).map(([k, [first, count]]): [string, TunRange] => [k, { first, count }]));
  it.each([
    [
      'first profiles from 0, in order',
      {},
      [
        ['a', 2],
        ['b', 1],
      ],
      { a: [0, 2], b: [2, 1] },
    ],
    ['a profile keeps its numbers when one before it goes', { a: [0, 2], b: [2, 1] }, [['b', 1]], { b: [2, 1] }],
    [
      'a newcomer takes the lowest gap that fits',
      { b: [2, 1], c: [5, 4] },
      [
        ['b', 1],
        ['c', 4],
        ['a', 2],
      ],
      { a: [0, 2], b: [2, 1], c: [5, 4] },
    ],
    [
      'a newcomer too big for the gap goes after',
      { b: [2, 1] },
      [
        ['a', 4],
        ['b', 1],
      ],
      { a: [3, 4], b: [2, 1] },
    ],
    [
      'shrinking keeps the place',
      { a: [0, 4], b: [4, 1] },
      [
        ['a', 2],
        ['b', 1],
      ],
      { a: [0, 2], b: [4, 1] },
    ],
    ['growing into free numbers keeps the place', { a: [0, 1] }, [['a', 3]], { a: [0, 3] }],
    [
      'growing into a neighbour moves, the neighbour stays',
      { a: [0, 2], b: [2, 1] },
      [
        ['a', 3],
        ['b', 1],
      ],
      { a: [3, 3], b: [2, 1] },
    ],
    [
      'overlapping saved ranges: the later one moves',
      { a: [0, 2], b: [1, 2] },
      [
        ['a', 2],
        ['b', 2],
      ],
      { a: [0, 2], b: [2, 2] },
    ],
  ] as const)('%s', (_name, before, wanted, after) => {
    expect(assignTuns(m(before as Ranges), wanted)).toEqual(m(after as Ranges));
  });
});

describe('server certificate checks', () => {
  const day = 86_400_000;
  async function setup() {
    const stored = await createCa({ commonName: 'Edgeport test CA', notAfter: new Date(Date.now() + 3650 * day) });
    const ca = await loadCa(stored.certPem, stored.keyPkcs8Pem);
    const keys = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const csr = (await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=ams1', keys, signingAlgorithm: { name: 'Ed25519' } })).toString('pem');
    const key: KeyObject = createPrivateKey({ key: Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey)), format: 'der', type: 'pkcs8' });
    const issue = async (notBefore: number, notAfter: number, profileId = 'campus', by = ca) =>
      (await issueServerCertificate(by, { csrPem: csr, commonName: 'ams1.example.org', profileId, notBefore: new Date(notBefore), notAfter: new Date(notAfter) })).certPem;
    return { ca, key, issue };
  }

  it('serves a fresh certificate, renews after two thirds of its life, and refuses expired, foreign, other-profile and other-key ones', async () => {
    const { ca, key, issue } = await setup();
    const now = Date.now();
    const fresh = await issue(now - day, now + 364 * day);
    expect(certificateState(fresh, key, ca.certPem, 'campus', now)).toMatchObject({ usable: true, renew: false });
    expect(certificateState(fresh, key, ca.certPem, 'campus', now + 250 * day)).toMatchObject({ usable: true, renew: true });
    expect(certificateState(fresh, key, ca.certPem, 'campus', now + 365 * day)).toEqual({ usable: false, reason: 'expired' });
    expect(certificateState(fresh, key, ca.certPem, 'campus', now - 2 * day)).toEqual({ usable: false, reason: 'not valid yet' });
    expect(certificateState(fresh, key, ca.certPem, 'staff', now)).toEqual({ usable: false, reason: 'not issued for profile staff' });

    const otherCa = await createCa({ commonName: 'Edgeport test CA', notAfter: new Date(now + 3650 * day) });
    expect(certificateState(fresh, key, otherCa.certPem, 'campus', now)).toEqual({ usable: false, reason: 'not signed by the current CA' });
    const otherKey = generateKeyPairSync('ed25519').privateKey;
    expect(certificateState(fresh, otherKey, ca.certPem, 'campus', now)).toEqual({ usable: false, reason: 'issued for another key' });
    expect(certificateState('garbage', key, ca.certPem, 'campus', now)).toEqual({ usable: false, reason: 'not a certificate' });
  });
});

describe('host checks', () => {
  it('finds AES instructions on x86 and arm64, not elsewhere', () => {
    expect(cpuHasAes('processor\t: 0\nflags\t\t: fpu vme sse2 aes avx\n')).toBe(true);
    expect(cpuHasAes('processor\t: 0\nFeatures\t: fp asimd evtstrm aes pmull sha1\n')).toBe(true);
    expect(cpuHasAes('processor\t: 0\nflags\t\t: fpu vme sse2 vaes_x avx\nmodel name\t: aes\n')).toBe(false);
    expect(cpuHasAes('')).toBe(false);
  });

  it('finds an executable on PATH, skipping files that are not executable', async () => {
    const plain = mkdtempSync(join(dir, 'plain-'));
    const bin = mkdtempSync(join(dir, 'bin-'));
    writeFileSync(join(plain, 'openvpn'), '#!/bin/sh\n', { mode: 0o644 });
    writeFileSync(join(bin, 'openvpn'), '#!/bin/sh\n', { mode: 0o755 });
    expect(await findExecutable('openvpn', `${plain}:${bin}`)).toBe(join(bin, 'openvpn'));
    expect(await findExecutable('openvpn', plain)).toBeNull();
  });
});
