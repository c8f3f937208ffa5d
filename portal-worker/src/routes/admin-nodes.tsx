import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';

/** The nodes pages: enrollment, live status, revocation. */
export const adminNodes = new Hono<AppEnv>();
