import { formatTime, type MessageKey, type T } from '../i18n/index.ts';
import type { NodeState } from '../store/nodes.ts';

export type Health = 'online' | 'offline' | 'revoked' | 'unenrolled';

/**
 * The rule /connect uses to pick a node (connected, and heard from within the healthy window),
 * applied to what the node channel recorded in node_status.
 */
export function healthOf(s: NodeState, now: number, healthyMs: number): Health {
  if (s.revoked_at !== null) return 'revoked';
  if (!s.enrolled) return 'unenrolled';
  return s.connected && s.last_seen_at !== null && now - s.last_seen_at < healthyMs ? 'online' : 'offline';
}

const BADGE: Record<Health, { cls: string; key: MessageKey }> = {
  online: { cls: 'ok', key: 'admin-nodes.status.online' },
  offline: { cls: 'off', key: 'admin-nodes.status.offline' },
  revoked: { cls: 'bad', key: 'admin-nodes.status.revoked' },
  unenrolled: { cls: 'warn', key: 'admin-nodes.status.unenrolled' },
};

export function StatusBadge({ t, health }: { t: T; health: Health }) {
  const b = BADGE[health];
  return (
    <span class={`badge ${b.cls}`} data-status={health}>
      {t(b.key)}
    </span>
  );
}

/**
 * Coarse on purpose: the live region is replaced whenever its HTML changes, so a seconds counter
 * would redraw (and re-announce) the table on every poll.
 */
function age(t: T, ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return t('admin-nodes.age.now');
  if (s < 3600) return t('admin-nodes.age.minutes', { n: Math.floor(s / 60) });
  if (s < 86_400) return t('admin-nodes.age.hours', { n: Math.floor(s / 3600) });
  return t('admin-nodes.age.days', { n: Math.floor(s / 86_400) });
}

/**
 * Applied vs wanted revision. The channel refreshes wanted_revision whenever it records the
 * node's status, so for a node that is offline both numbers are as of its last contact.
 */
export function Revision({ t, s, online }: { t: T; s: NodeState; online: boolean }) {
  const { applied_revision: applied, wanted_revision: wanted } = s;
  if (wanted === null) return <span class="muted">{t('common.none')}</span>;
  let verdict: string;
  let cls: string;
  if (applied === null) [verdict, cls] = [t('admin-nodes.rev.nothing'), 'warn'];
  else if (applied === wanted) [verdict, cls] = [t('admin-nodes.rev.inSync'), 'ok'];
  else if (applied < wanted) [verdict, cls] = [t('admin-nodes.rev.behind', { n: wanted - applied }), 'warn'];
  else [verdict, cls] = [t('admin-nodes.rev.ahead', { n: applied - wanted }), 'warn'];
  return (
    <span data-revision={applied ?? ''} data-wanted={wanted}>
      <span class={`badge ${cls}`}>{verdict}</span>{' '}
      <span class="muted">
        {t('admin-nodes.rev.numbers', { applied: applied ?? t('common.none'), wanted })}
        {online ? null : ` (${t('admin-nodes.rev.lastContact')})`}
      </span>
    </span>
  );
}

export function Heartbeat({ t, s, now }: { t: T; s: NodeState; now: number }) {
  if (s.last_seen_at === null) return <span class="muted">{t('admin-nodes.heartbeat.never')}</span>;
  return (
    <span>
      <time datetime={`${formatTime(s.last_seen_at).replace(' ', 'T')}Z`}>{formatTime(s.last_seen_at)}</time> <span class="muted">({age(t, now - s.last_seen_at)})</span>
    </span>
  );
}

export function Load({ t, s }: { t: T; s: NodeState }) {
  if (!s.load) return <span class="muted">{t('common.none')}</span>;
  const avg = s.load.load_average.map((x) => x.toFixed(2)).join(' ');
  return <span>{t('admin-nodes.load.value', { load: avg || t('common.none'), cpus: s.load.cpu_count })}</span>;
}

export function Sessions({ t, s }: { t: T; s: NodeState }) {
  if (!s.sessions) return <span class="muted">{t('common.none')}</span>;
  return <span>{t('admin-nodes.sessions.value', { peers: s.sessions.peers, clients: s.sessions.clients })}</span>;
}
