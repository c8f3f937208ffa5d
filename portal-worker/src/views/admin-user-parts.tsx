import type { PageContext } from './page.ts';

// Small pieces the users and connections pages share.

export const userHref = (id: string) => `/admin/users/${encodeURIComponent(id)}`;

export function RoleBadge({ page, admin }: { page: PageContext; admin: boolean }) {
  return <span class={admin ? 'badge warn' : 'badge off'}>{page.t(admin ? 'admin-users.role.admin' : 'admin-users.role.user')}</span>;
}

export function StatusBadge({ page, disabled }: { page: PageContext; disabled: boolean }) {
  return <span class={disabled ? 'badge bad' : 'badge ok'}>{page.t(disabled ? 'admin-users.status.disabled' : 'admin-users.status.active')}</span>;
}

export function protocolName(protocol: 'wireguard' | 'openvpn'): string {
  return protocol === 'wireguard' ? 'WireGuard' : 'OpenVPN';
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** Byte counters as an admin reads them; units are the same in every language. */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
}
