// Plain-HTTP calls to the platform under test: tRPC procedures as any client would send them, and the
// benchmark runtime's timing routes. Timing is taken here, on the client, with performance.now().
export class Api {
  private cookie = "";
  private apiKey = "";

  readonly url: string;

  constructor(url: string) {
    this.url = url;
  }

  async call<T>(procedure: string, input?: unknown, kind: "query" | "mutation" = "mutation"): Promise<T> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    else if (this.cookie) headers.cookie = this.cookie;
    const response =
      kind === "query"
        ? await fetch(
            `${this.url}/trpc/${procedure}${input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`}`,
            {
              headers,
            },
          )
        : await fetch(`${this.url}/trpc/${procedure}`, {
            method: "POST",
            headers,
            body: JSON.stringify(input ?? null),
          });
    const setCookie = response.headers.get("set-cookie");
    if (setCookie) this.cookie = setCookie.split(";")[0] ?? "";
    const body = (await response.json()) as { result?: { data: T }; error?: { message: string } };
    if (!response.ok || !body.result)
      throw new Error(`${procedure}: ${response.status} ${body.error?.message ?? ""}`);
    return body.result.data;
  }

  /** Signs up a fresh tenant and switches to an API key for everything after. */
  async newTenant(label: string): Promise<string> {
    const account = await this.call<{ tenant: { id: string } }>("auth.signup", {
      tenantName: label,
      email: `${label}-${crypto.randomUUID().slice(0, 8)}@bench.example`,
      password: "benchmark password",
    });
    const key = await this.call<{ key: string }>("apiKey.create", { name: "bench" });
    this.apiKey = key.key;
    await this.post("/bench/plan", { tenantId: account.tenant.id });
    return account.tenant.id;
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    const response = await fetch(`${this.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }
}

/** Milliseconds taken by `work`, measured on the client. */
export async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}
