// The README's Python example, run as written: the first ```python block under "### From Python (plain
// HTTP)" in README.md (or in the file PYTHON_EXAMPLE_SOURCE names) goes to `python3` with TROUPE_URL,
// TROUPE_API_KEY and TROUPE_ORCHESTRATION pointing at a fresh tenant on wrangler dev; it must print the
// run's completed status and output.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, inject, it } from "vitest";

const baseUrl = inject("devServerUrl");
const HEADING = "### From Python (plain HTTP)";

function pythonExample(): string {
  const source = process.env.PYTHON_EXAMPLE_SOURCE ?? path.resolve(import.meta.dirname, "../../README.md");
  const markdown = readFileSync(source, "utf8");
  const after = markdown.indexOf(HEADING);
  if (after < 0) throw new Error(`${source} has no "${HEADING}" heading`);
  const block = /```python\n([\s\S]*?)\n```/.exec(markdown.slice(after));
  if (!block?.[1]) throw new Error(`${source} has no \`\`\`python block after "${HEADING}"`);
  return block[1];
}

/** A plain JSON call to the API, the way the example makes it; the session cookie rides along. */
async function trpc(procedure: string, input: unknown, headers: Record<string, string>) {
  const response = await fetch(`${baseUrl}/trpc/${procedure}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(input),
  });
  const body = (await response.json()) as { result?: { data: unknown }; error?: { message: string } };
  if (!response.ok) throw new Error(`${procedure}: ${body.error?.message ?? response.status}`);
  return { data: body.result?.data as Record<string, unknown>, cookie: response.headers.get("set-cookie") };
}

/** A new tenant with a role, an orchestration whose one step the built-in local model answers, and a key. */
async function tenantWithOrchestration() {
  const ip = { "cf-connecting-ip": `198.51.100.${Math.floor(Math.random() * 250) + 1}` };
  const signup = await trpc(
    "auth.signup",
    {
      tenantName: "Python",
      email: `py-${crypto.randomUUID()}@example.com`,
      password: "a long enough password",
    },
    ip,
  );
  const session = { ...ip, cookie: (signup.cookie ?? "").split(";")[0] ?? "" };
  await trpc("role.create", { name: "Poet", basePrompt: "You write haiku." }, session);
  await trpc(
    "orchestrationManagement.create",
    { name: "Haiku", steps: [{ name: "Write", roleName: "Poet" }] },
    session,
  );
  const key = await trpc("apiKey.create", { name: "python", scopes: ["read", "run"] }, session);
  return { apiKey: String(key.data.key), session };
}

describe("the README's Python example", () => {
  it("starts a run with an API key, waits for it and prints the completed output", async () => {
    const source = pythonExample();
    const { apiKey, session } = await tenantWithOrchestration();
    const run = spawnSync("python3", ["-"], {
      input: source,
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, TROUPE_URL: baseUrl, TROUPE_API_KEY: apiKey, TROUPE_ORCHESTRATION: "Haiku" },
    });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const listed = await fetch(`${baseUrl}/trpc/orchestrationManagement.listExecutions`, {
      headers: session,
    });
    const [execution] = ((await listed.json()) as { result: { data: { items: { id: string }[] } } }).result
      .data.items;
    const status = await fetch(
      `${baseUrl}/trpc/orchestrationManagement.getExecutionStatus?input=${encodeURIComponent(JSON.stringify({ executionId: execution?.id }))}`,
      { headers: session },
    );
    const { output } = ((await status.json()) as { result: { data: { output: unknown } } }).result.data;
    expect(output).not.toBeNull();
    const [first, ...rest] = run.stdout.split("\n");
    expect(first).toBe("completed");
    expect(JSON.parse(rest.join("\n"))).toEqual(output);
  });

  it("stops with the API's error message when the orchestration does not exist", async () => {
    const { apiKey } = await tenantWithOrchestration();
    const run = spawnSync("python3", ["-"], {
      input: pythonExample(),
      encoding: "utf8",
      timeout: 60_000,
      env: {
        ...process.env,
        TROUPE_URL: baseUrl,
        TROUPE_API_KEY: apiKey,
        TROUPE_ORCHESTRATION: "No such flow",
      },
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^orchestrationManagement\.execute: .*No such flow/);
  });
});
