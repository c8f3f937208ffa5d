import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';

/** Live connections per profile and node, with kill. */
export const adminConnections = new Hono<AppEnv>();
