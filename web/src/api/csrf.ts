// CSRF: the server sets a JS-readable cookie `hd_csrf`; every state-changing request made with
// the session cookie must echo it in the `X-CSRF-Token` header.

export const CSRF_COOKIE = 'hd_csrf';
export const CSRF_HEADER = 'X-CSRF-Token';

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Value of a cookie from a `document.cookie`-style string, or null. */
export function readCookie(cookieString: string, name: string): string | null {
  for (const part of cookieString.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    if (key !== name) continue;
    const raw = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }
  return null;
}

/** Whether a request with this method must carry the CSRF header. */
export function needsCsrf(method: string): boolean {
  return UNSAFE.has(method.toUpperCase());
}

/**
 * Headers to add to a request: `{ 'X-CSRF-Token': value }` for unsafe methods when the cookie is
 * present, otherwise `{}`.
 */
export function csrfHeaders(method: string, cookieString: string): Record<string, string> {
  if (!needsCsrf(method)) return {};
  const token = readCookie(cookieString, CSRF_COOKIE);
  return token ? { [CSRF_HEADER]: token } : {};
}
