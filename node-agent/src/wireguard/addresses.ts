import { isIP } from 'node:net';

export interface LinkState {
  up: boolean;
  /** Configured addresses as `<ip>/<prefix>`, link-local ones left out (the kernel makes those). */
  addresses: string[];
}

interface IpAddrJson {
  flags?: string[];
  addr_info?: { family?: string; local?: string; prefixlen?: number; scope?: string }[];
}

/** Parses `ip -j address show dev <if>`. */
export function parseIpAddressJson(text: string): LinkState {
  const links = JSON.parse(text) as IpAddrJson[];
  const link = links[0];
  if (!link) throw new Error('ip address show: no link in output');
  const addresses: string[] = [];
  for (const a of link.addr_info ?? []) {
    if (a.scope === 'link' || !a.local || a.prefixlen === undefined) continue;
    addresses.push(canonicalCidr(`${a.local}/${a.prefixlen}`));
  }
  return { up: (link.flags ?? []).includes('UP'), addresses };
}

/**
 * One spelling per address, so `fd00:0::1/64` in a spec matches `fd00::1/64` from iproute2.
 * IPv6 goes through the WHATWG URL serializer, which emits RFC 5952 form.
 */
export function canonicalCidr(cidr: string): string {
  const slash = cidr.indexOf('/');
  if (slash < 0) throw new Error(`address without prefix length: ${cidr}`);
  const ip = cidr.slice(0, slash);
  const prefix = cidr.slice(slash + 1);
  const family = isIP(ip);
  const max = family === 4 ? 32 : family === 6 ? 128 : 0;
  if (!max || !/^\d{1,3}$/.test(prefix) || Number(prefix) > max) throw new Error(`not an address with prefix: ${cidr}`);
  const host = family === 6 ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip;
  return `${host}/${Number(prefix)}`;
}
