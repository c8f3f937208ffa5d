import type { Bindings } from '../src/bindings.ts';

declare global {
  namespace Cloudflare {
    interface Env extends Bindings {
      PSDB_URL: string;
    }
  }
}
