import type { NodeMessage } from '@edgeport/schema';
import type { Db } from '../core/db.ts';
import { logOpenvpnEvent, recordSessions } from '../store/connection-log.ts';

export type OpenvpnEventMessage = Extract<NodeMessage, { type: 'openvpn_event' }>;
export type SessionsMessage = Extract<NodeMessage, { type: 'sessions' }>;

/** An OpenVPN client connected to or left one of the node's servers (times in epoch ms): the connection log. */
export async function onOpenvpnEvent(db: Db, nodeId: string, e: OpenvpnEventMessage): Promise<void> {
  await logOpenvpnEvent(db, {
    event: e.event,
    at: e.at,
    nodeId,
    profileId: e.profile_id,
    commonName: e.common_name,
    ipFour: e.ip_four,
    ipSix: e.ip_six,
    originatingIp: e.originating_ip,
    ...(e.rx !== undefined ? { rx: e.rx } : {}),
    ...(e.tx !== undefined ? { tx: e.tx } : {}),
  });
}

/** The session counts of a report, sampled once a minute for the statistics (a second write in the same minute keeps the higher). */
export async function onSessionsReport(db: Db, nodeId: string, m: SessionsMessage): Promise<void> {
  const minute = Math.floor(m.at / 60_000) * 60_000;
  await recordSessions(db, nodeId, minute, m.counts);
}
