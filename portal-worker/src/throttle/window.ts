/** Failed attempts inside a sliding window; pure, so the rule is tested without waiting. */
export interface WindowState {
  failures: number[];
}

export interface Verdict {
  blocked: boolean;
  retryAfterMs: number;
}

export function prune(state: WindowState, now: number, windowMs: number): WindowState {
  return { failures: state.failures.filter((t) => t > now - windowMs) };
}

export function verdict(state: WindowState, now: number, limit: number, windowMs: number): Verdict {
  const live = prune(state, now, windowMs).failures;
  if (live.length < limit) return { blocked: false, retryAfterMs: 0 };
  // Blocked until the oldest failure that keeps the count at the limit leaves the window.
  const oldest = live[live.length - limit] as number;
  return { blocked: true, retryAfterMs: oldest + windowMs - now };
}

export function recordFailure(state: WindowState, now: number, limit: number, windowMs: number): WindowState {
  // Keep no more than the limit needs: memory per key stays bounded under attack.
  const failures = [...prune(state, now, windowMs).failures, now].slice(-limit);
  return { failures };
}
