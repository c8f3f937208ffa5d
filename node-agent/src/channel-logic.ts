/**
 * The channel's decisions as pure functions, so the rules are table-tested without sockets:
 * what to do with a delta, how long to wait after which failure, which portal to try next.
 */

export type DeltaDecision = 'apply' | 'ignore' | 'need_snapshot';

/**
 * A delta applies only on top of exactly its `base` (docs/architecture.md "Node protocol":
 * in order, at-least-once). What the node already has is ignored (a replay after a reconnect);
 * anything else is a gap only a snapshot can close.
 */
export function onDelta(applied: number | null, delta: { base: number; revision: number }): DeltaDecision {
  // Nothing held yet: the changes have nothing to apply to.
  if (applied === null) return 'need_snapshot';
  if (delta.revision <= applied) return 'ignore';
  if (delta.base === applied) return 'apply';
  // base > applied: we missed deltas. base < applied < revision: it overlaps what we hold and we
  // cannot tell which of its changes are already in; the hub only sends one-step deltas, so this
  // means the two sides disagree about history.
  return 'need_snapshot';
}

/** Why a connection ended (or never started); decides the wait before the next attempt. */
export type Failure =
  /** TCP/TLS failure, timeout, or an HTTP status other than 401/403 on the upgrade (a portal restarting, a proxy's 502). */
  | { kind: 'network'; detail: string }
  /** The upgrade was answered 401 or 403: this credential is not accepted. */
  | { kind: 'refused'; status: number }
  /** The hub said `revoked` or `unauthorized`, or closed with 4003. */
  | { kind: 'revoked'; detail: string }
  /** The hub answered our hello with a protocol error: a retry says the same thing. */
  | { kind: 'rejected'; detail: string }
  /** Another connection for this node took over (close 4000): another agent holds our credential. */
  | { kind: 'replaced' }
  /** An open connection closed (portal deploy, network blip). */
  | { kind: 'lost'; code: number; reason: string };

/**
 * `grow`: the next full-jitter delay (1 s doubling to 60 s). `cap`: wait the whole cap, because
 * retrying sooner cannot succeed and only loads the portal (no retry loop on 401/403). A replaced
 * connection waits the cap too: two agents with one identity would otherwise take the socket
 * from each other every second.
 */
export function backoffAfter(failure: Failure): 'grow' | 'cap' {
  switch (failure.kind) {
    case 'network':
    case 'lost':
      return 'grow';
    case 'refused':
    case 'revoked':
    case 'rejected':
    case 'replaced':
      return 'cap';
  }
}

/** HTTP statuses on the upgrade that mean "not this credential", not "try again soon". */
export const isRefusal = (status: number): boolean => status === 401 || status === 403;

/** Close codes the hub uses (portal-worker NodeChannel). */
export function failureOfClose(code: number, reason: string): Failure {
  if (code === 4003) return { kind: 'revoked', detail: reason || 'closed by the portal (4003)' };
  if (code === 4000) return { kind: 'replaced' };
  return { kind: 'lost', code, reason };
}

/** The HA shape: after a failure the next portal in the list is tried, round robin. */
export const nextPortal = (index: number, count: number): number => (count > 0 ? (index + 1) % count : 0);

/** `https://portal` → `wss://portal/node/ws` (the portal's origin; a path in the URL is not kept, as for enroll). */
export function channelUrl(portal: URL): URL {
  const url = new URL('/node/ws', portal);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url;
}

/** The log line's words for a failure. */
export function explain(f: Failure): string {
  switch (f.kind) {
    case 'network':
    case 'revoked':
    case 'rejected':
      return f.detail;
    case 'refused':
      return `HTTP ${f.status}: the portal does not accept this node's credential`;
    case 'replaced':
      return 'replaced by a newer connection for this node (is another agent running with this credential?)';
    case 'lost':
      return `closed (${f.code}${f.reason ? `: ${f.reason}` : ''})`;
  }
}
