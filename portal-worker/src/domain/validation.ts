import type { z } from 'zod';
import type { FieldError } from '../core/errors.ts';

/** zod issues as the field errors every rendering shows; unknown keys are named, not hidden. */
export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((i) => ({
    path: i.path.join('.'),
    message: i.code === 'unrecognized_keys' ? `unknown field(s): ${i.keys.join(', ')}` : i.message,
  }));
}
