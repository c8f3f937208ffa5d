/**
 * Reconnect delays: exponential from 1 s doubling to a 60 s cap, with full jitter (a uniformly
 * random delay up to the exponential value), so that after a portal outage thousands of nodes
 * do not reconnect in the same second. Never gives up.
 */
export class Backoff {
  private attempt = 0;
  constructor(
    private readonly random: () => number = Math.random,
    private readonly baseMs = 1000,
    private readonly capMs = 60_000,
  ) {}

  /** The bound the next `next()` draws under: logged, so an operator sees the delays grow to the cap. */
  get ceilingMs(): number {
    return Math.min(this.capMs, this.baseMs * 2 ** this.attempt);
  }

  next(): number {
    const ceiling = this.ceilingMs;
    this.attempt = Math.min(this.attempt + 1, 30);
    return Math.floor(this.random() * ceiling);
  }

  /** After a refusal (401/403) hammering helps nobody: wait the whole cap. */
  refused(): number {
    this.attempt = 30;
    return this.capMs;
  }

  reset(): void {
    this.attempt = 0;
  }
}
