import { DurableObject } from 'cloudflare:workers';
import { recordFailure, verdict, type Verdict, type WindowState } from './window.ts';

/**
 * One object per throttled key ("acct:<id>" or "ip:<addr>"). A Durable Object gives every
 * portal instance, in every edge location, the same count: a per-isolate counter would let an
 * attacker spread guesses across the edge.
 */
export class LoginThrottle extends DurableObject {
  private state: WindowState | undefined;

  private async load(): Promise<WindowState> {
    this.state ??= (await this.ctx.storage.get<WindowState>('w')) ?? { failures: [] };
    return this.state;
  }

  async check(limit: number, windowMs: number): Promise<Verdict> {
    return verdict(await this.load(), Date.now(), limit, windowMs);
  }

  async fail(limit: number, windowMs: number): Promise<Verdict> {
    const now = Date.now();
    this.state = recordFailure(await this.load(), now, limit, windowMs);
    await this.ctx.storage.put('w', this.state);
    return verdict(this.state, now, limit, windowMs);
  }

  async reset(): Promise<void> {
    this.state = { failures: [] };
    await this.ctx.storage.delete('w');
  }
}
