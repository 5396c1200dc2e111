import { csrfHeaders } from './csrf';
import type { Page, Problem } from './types';

/** An error answer from the API, carrying its RFC 9457 problem details. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  readonly retryAfter: number | null;

  constructor(status: number, problem: Problem, retryAfter: number | null = null) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }

  /** Last path segment of the problem `type`, e.g. `totp-required`. */
  get slug(): string {
    return problemSlug(this.problem, this.status);
  }

  /** The reason the server gave for one field, if any. */
  fieldError(field: string): string | undefined {
    return this.problem.errors?.find((e) => e.field === field)?.reason;
  }
}

/** A network failure (server unreachable, offline). */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'NetworkError';
  }
}

const STATUS_SLUGS: Record<number, string> = {
  400: 'validation',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not-found',
  409: 'conflict',
  413: 'payload-too-large',
  422: 'validation',
  423: 'locked',
  429: 'rate-limited',
};

export function problemSlug(problem: Problem, status: number): string {
  const byStatus = STATUS_SLUGS[status] ?? (status >= 500 ? 'internal' : 'unknown');
  if (problem.type) {
    const s = problem.type.replace(/\/+$/, '');
    const slug = s.slice(s.lastIndexOf('/') + 1);
    // A body that says "internal" on a 4xx answer is not to be believed over the status.
    if (slug === 'internal' && status < 500) return byStatus;
    if (slug && slug !== 'about:blank') return slug;
  }
  return byStatus;
}

type Listener = (err: ApiError) => void;
const authListeners = new Set<Listener>();

/**
 * Called for 401 `unauthenticated` and 403 `password-change-required` answers to requests other
 * than login, so the session layer can send the user to the right page.
 */
export function onAuthProblem(fn: Listener): () => void {
  authListeners.add(fn);
  return () => authListeners.delete(fn);
}

export type Query = Record<string, string | number | boolean | null | undefined>;

/** `/api/x` + `?a=1&b=2`, skipping empty values. */
export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue;
    params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}${path.includes('?') ? '&' : '?'}${qs}` : path;
}

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** A file sent as the body as it is, with its own content type (instead of JSON `body`). */
  file?: Blob;
  signal?: AbortSignal;
  /** Do not report 401 to the session layer (used by login and the startup `me` probe). */
  quietAuth?: boolean;
}

export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = {
    Accept: 'application/json, application/problem+json',
    ...csrfHeaders(method, typeof document === 'undefined' ? '' : document.cookie),
  };
  let body: BodyInit | undefined;
  if (opts.file !== undefined) {
    headers['Content-Type'] = opts.file.type || 'application/octet-stream';
    body = opts.file;
  } else if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  let res: Response;
  try {
    res = await fetch(withQuery(path, opts.query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: opts.signal,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new NetworkError(e);
  }
  if (!res.ok) {
    let problem: Problem = {};
    try {
      const text = await res.text();
      if (text) problem = JSON.parse(text) as Problem;
    } catch {
      problem = {};
    }
    if (problem.status === undefined) problem.status = res.status;
    const ra = res.headers.get('Retry-After');
    const retryAfter = ra && /^\d+$/.test(ra) ? Number(ra) : null;
    const err = new ApiError(res.status, problem, retryAfter);
    if (!opts.quietAuth && (err.slug === 'unauthenticated' || err.slug === 'password-change-required' || err.slug === 'totp-setup-required')) {
      for (const fn of authListeners) fn(err);
    }
    throw err;
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export const api = {
  get: <T>(path: string, query?: Query, signal?: AbortSignal) => request<T>('GET', path, { query, signal }),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, { body: body ?? {} }),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, { body }),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, { body }),
  del: <T = void>(path: string) => request<T>('DELETE', path),
  upload: <T>(path: string, file: Blob) => request<T>('POST', path, { file }),
};

/** Accept either a bare array or a `{items, next_cursor}` page. */
export function asPage<T>(data: T[] | Page<T> | null | undefined): Page<T> {
  if (!data) return { items: [], next_cursor: null };
  if (Array.isArray(data)) return { items: data, next_cursor: null };
  return { items: data.items ?? [], next_cursor: data.next_cursor ?? null };
}

/** Follow `next_cursor` until the end (bounded by `maxPages`). */
export async function fetchAll<T>(
  path: string,
  query: Query = {},
  signal?: AbortSignal,
  maxPages = 20,
): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < maxPages; i++) {
    const page: Page<T> = asPage(
      await api.get<T[] | Page<T>>(path, { ...query, limit: query.limit ?? 500, cursor }, signal),
    );
    out.push(...page.items);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return out;
}
