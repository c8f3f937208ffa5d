import type { T } from '../i18n/index.ts';
import type { NodeUsage } from '../domain/address-usage.ts';

const nodeLink = (id: string) => <a href={`/admin/nodes/${encodeURIComponent(id)}`}>{id}</a>;

export function ServedBy({ t, usage }: { t: T; usage: NodeUsage[] }) {
  if (!usage.length) return <span class="muted">{t('admin-nodes.profiles.servedBy.none')}</span>;
  return (
    <ul class="plain">
      {usage.map((u) => (
        <li data-node={u.node_id}>
          {nodeLink(u.node_id)}
          {u.revoked ? (
            <>
              {' '}
              <span class="badge bad">{t('admin-nodes.status.revoked')}</span>
            </>
          ) : null}
        </li>
      ))}
    </ul>
  );
}

/** One line per (node, protocol); a revoked node takes no clients, so its room is not counted. */
export function FreeAddresses({ t, usage }: { t: T; usage: NodeUsage[] }) {
  const live = usage.filter((u) => !u.revoked);
  if (!live.length) return <span class="muted">{t('common.none')}</span>;
  return (
    <ul class="plain">
      {live.flatMap((u) => [
        u.wireguard ? (
          <li data-node={u.node_id} data-proto="wireguard" data-free={u.wireguard.free}>
            {t('admin-nodes.profiles.free.wireguard', { node: u.node_id, free: u.wireguard.free, capacity: u.wireguard.capacity })}
            {u.wireguard.key_known ? null : (
              <>
                {' '}
                <span class="badge warn">{t('admin-nodes.profiles.free.noKey')}</span>
              </>
            )}
          </li>
        ) : null,
        u.openvpn ? (
          <li data-node={u.node_id} data-proto="openvpn" data-capacity={u.openvpn.capacity} data-certificates={u.openvpn.certificates}>
            {t('admin-nodes.profiles.free.openvpn', { node: u.node_id, capacity: u.openvpn.capacity, certificates: u.openvpn.certificates })}
          </li>
        ) : null,
      ])}
    </ul>
  );
}

export function UsageExplained({ t }: { t: T }) {
  return (
    <p class="muted" id="free-addresses-explained">
      {t('admin-nodes.profiles.free.explainWireguard')} {t('admin-nodes.profiles.free.explainOpenvpn')}
    </p>
  );
}

/** The edit page's view: every assigned node with the ranges it uses and the room left in them. */
export function ServingNodesTable({ t, usage }: { t: T; usage: NodeUsage[] }) {
  if (!usage.length) return <p class="muted">{t('admin-nodes.profiles.servedBy.none')}</p>;
  const range = (r: { range_four: string; own: boolean } | null) =>
    r ? `${r.range_four} (${r.own ? t('admin-nodes.profiles.range.own') : t('admin-nodes.profiles.range.profile')})` : t('common.none');
  return (
    <div class="table-wrap">
      <table id="serving-nodes">
        <thead>
          <tr>
            <th scope="col">{t('admin-nodes.profiles.col.node')}</th>
            <th scope="col">WireGuard</th>
            <th scope="col">OpenVPN</th>
            <th scope="col">{t('admin-nodes.profiles.col.free')}</th>
          </tr>
        </thead>
        <tbody>
          {usage.map((u) => (
            <tr id={`serving-${u.node_id}`} data-node={u.node_id}>
              <th scope="row">
                {nodeLink(u.node_id)}
                {u.revoked ? (
                  <>
                    {' '}
                    <span class="badge bad">{t('admin-nodes.status.revoked')}</span>
                  </>
                ) : null}
              </th>
              <td>{range(u.wireguard)}</td>
              <td>{range(u.openvpn)}</td>
              <td>
                <FreeAddresses t={t} usage={[u]} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
