// The session cookie: HttpOnly, SameSite=Lax, Secure everywhere but plain-HTTP localhost.
export const SESSION_COOKIE = "troupe_session";
const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

export function readSessionCookie(request: Request): string | undefined {
  const header = request.headers.get("cookie");
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === SESSION_COOKIE) return value.join("=");
  }
  return undefined;
}

function attributes(request: Request, maxAgeSeconds: number): string {
  const secure = !LOCAL_HOSTS.has(new URL(request.url).hostname);
  return `Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secure ? "; Secure" : ""}`;
}

export function sessionCookie(request: Request, token: string, expiresAt: Date, now: number): string {
  return `${SESSION_COOKIE}=${token}; ${attributes(request, Math.floor((expiresAt.getTime() - now) / 1000))}`;
}

export function clearedSessionCookie(request: Request): string {
  return `${SESSION_COOKIE}=; ${attributes(request, 0)}`;
}
