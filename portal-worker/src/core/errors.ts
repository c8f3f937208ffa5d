/** The closed set of error codes every rendering understands (docs/conventions.md §4). */
export const ERROR_STATUS = {
  validation_failed: 400,
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  csrf_failed: 403,
  not_found: 404,
  method_not_allowed: 405,
  not_acceptable: 406,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_requests: 429,
  internal: 500,
  service_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface FieldError {
  path: string;
  message: string;
}

export interface AppErrorOptions {
  fields?: FieldError[];
  headers?: Record<string, string>;
  /** RFC 6749 §5.2 error code, used when the route's audience is OAuth. */
  oauthError?: string;
}

/** An expected failure that knows its HTTP status and renders itself for every audience. */
export class AppError extends Error {
  override name = 'AppError';
  readonly status: number;
  readonly fields: FieldError[];
  readonly headers: Record<string, string>;
  readonly oauthError: string | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message);
    this.status = ERROR_STATUS[code];
    this.fields = options.fields ?? [];
    this.headers = options.headers ?? {};
    this.oauthError = options.oauthError;
  }
}

const TITLES: Record<ErrorCode, string> = {
  validation_failed: 'The request is not valid',
  bad_request: 'Bad request',
  unauthenticated: 'Authentication required',
  forbidden: 'Not allowed',
  csrf_failed: 'The form has expired or did not come from this site',
  not_found: 'Not found',
  method_not_allowed: 'Method not allowed',
  not_acceptable: 'No acceptable representation',
  conflict: 'Conflict',
  payload_too_large: 'Request too large',
  unsupported_media_type: 'Unsupported content type',
  too_many_requests: 'Too many attempts',
  internal: 'Internal error',
  service_unavailable: 'Service temporarily unavailable',
};

export function titleFor(code: ErrorCode): string {
  return TITLES[code];
}

/** RFC 6749 §5.2 codes for our codes when the OAuth audience did not name one itself. */
export function oauthCodeFor(err: AppError): string {
  if (err.oauthError) return err.oauthError;
  switch (err.code) {
    case 'unauthenticated':
      return 'invalid_client';
    case 'forbidden':
    case 'csrf_failed':
      return 'access_denied';
    case 'internal':
      return 'server_error';
    case 'service_unavailable':
      return 'temporarily_unavailable';
    default:
      return 'invalid_request';
  }
}

/** A deployment mistake (a missing or malformed secret or var): a server fault, logged, never shown. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
