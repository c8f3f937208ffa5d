import { app } from './app.ts';
import type { Bindings } from './bindings.ts';

export { LoginThrottle } from './throttle/login-throttle.ts';
export { NodeChannel } from './channel/node-channel.ts';

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Bindings>;
