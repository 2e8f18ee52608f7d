// The `troupe` CLI against a real `wrangler dev`: login and its config file, apply (create / unchanged /
// update by name), export → apply round trips, run with progress and its exit codes, executions.
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { Writable } from "node:stream";
import { stripVTControlCharacters } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { configPath } from "../../client/src/cli/config.ts";
import { terminalProgress } from "../../client/src/cli/progress.ts";
import { newTenantKey, startCli, tempFolder, troupe } from "./helpers-cli.ts";

const url = inject("devServerUrl");
const folder = tempFolder("cli");
let env: Record<string, string>;

beforeAll(async () => {
  const { apiKey } = await newTenantKey(url, "CLI");
  // Commands below find the key in the environment; the login test uses its own config folder.
  env = { TROUPE_URL: url, TROUPE_API_KEY: apiKey, XDG_CONFIG_HOME: path.join(folder.dir, "unused") };
});
afterAll(() => folder.cleanup());

/** A name no other test uses. */
const unique = (name: string) => `${name} ${crypto.randomUUID().slice(0, 6)}`;

const writer = (name: string) => ({ name, basePrompt: "You write short answers." });
/** A role whose context limit no input fits: its steps fail at once, deterministically. */
const tooSmall = (name: string) => ({
  name,
  basePrompt: "Nothing fits.",
  contextLimits: { minContext: 0, maxContext: 1 },
});

async function apply(kind: "roles" | "orchestrations", value: unknown) {
  const file = folder.file(`${crypto.randomUUID()}.json`, value);
  return troupe([kind, "apply", "-f", file], { env });
}

describe("troupe login", () => {
  it("stores a key that works (file mode 0600) and refuses a bad one, storing nothing", async () => {
    const config = tempFolder("login");
    try {
      const loginEnv = { XDG_CONFIG_HOME: config.dir };
      const file = path.join(config.dir, "troupe", "config.json");
      const refused = await troupe(["login", "--url", url], { env: loginEnv, stdin: "trp_notakey\n" });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain("the API key was refused");
      expect(refused.stderr).toContain("UNAUTHORIZED");
      expect(() => statSync(file)).toThrow();

      const loggedIn = await troupe(["login", "--url", url], {
        env: loginEnv,
        stdin: `${env.TROUPE_API_KEY}\n`,
      });
      expect(loggedIn.stderr).toBe("");
      expect(loggedIn.code).toBe(0);
      expect(loggedIn.stdout).toContain(`Logged in to ${url}`);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ url, apiKey: env.TROUPE_API_KEY });

      const listed = await troupe(["roles", "list", "--json"], { env: loginEnv });
      expect(listed.code).toBe(0);
      expect(JSON.parse(listed.stdout)).toEqual(expect.any(Array));
      // The environment overrides the stored key.
      const overridden = await troupe(["roles", "list"], {
        env: { ...loginEnv, TROUPE_API_KEY: "trp_notakey" },
      });
      expect(overridden.code).toBe(1);
      expect(overridden.stderr).toContain("UNAUTHORIZED");

      expect((await troupe(["logout"], { env: loginEnv })).code).toBe(0);
      expect(() => statSync(file)).toThrow();
      const after = await troupe(["roles", "list"], { env: loginEnv });
      expect(after.code).toBe(2);
      expect(after.stderr).toContain("not logged in");
    } finally {
      config.cleanup();
    }
  });
});

describe("the config file's place", () => {
  it("is $XDG_CONFIG_HOME/troupe, else ~/.config/troupe; %APPDATA%\\troupe on Windows", () => {
    expect(configPath({ XDG_CONFIG_HOME: "/xdg" }, "linux")).toBe("/xdg/troupe/config.json");
    expect(configPath({}, "darwin")).toMatch(/\/\.config\/troupe\/config\.json$/);
    expect(configPath({ APPDATA: "C:\\Users\\ada\\AppData\\Roaming" }, "win32")).toBe(
      "C:\\Users\\ada\\AppData\\Roaming\\troupe\\config.json",
    );
  });
});

describe("troupe roles apply", () => {
  it("creates a role, then reports it unchanged, then updates it when the file changes", async () => {
    const name = unique("Writer");
    const created = await apply("roles", writer(name));
    expect(created.code).toBe(0);
    expect(created.stdout.trim()).toBe(`role "${name}": created`);

    const again = await apply("roles", writer(name));
    expect(again.stdout.trim()).toBe(`role "${name}": unchanged`);

    const changed = await apply("roles", [
      { ...writer(name), basePrompt: "You write long answers." },
      writer(`${name} 2`),
    ]);
    expect(changed.code).toBe(0);
    expect(changed.stdout.trim().split("\n")).toEqual([
      `role "${name}": updated`,
      `role "${name} 2": created`,
    ]);
    const got = await troupe(["roles", "get", name, "--json"], { env });
    expect(JSON.parse(got.stdout)).toMatchObject({ name, basePrompt: "You write long answers." });
  });

  it("prints the API's field errors and exits 1; a file that is not JSON exits 2", async () => {
    const refused = await apply("roles", {
      name: unique("Bad"),
      basePrompt: "x",
      hyperparameters: { temperature: 9 },
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("BAD_REQUEST");
    expect(refused.stderr).toContain("hyperparameters.temperature: must be between 0 and 2");

    const broken = folder.file("broken.json", "{ not json");
    const unreadable = await troupe(["roles", "apply", "-f", broken], { env });
    expect(unreadable.code).toBe(2);
    expect(unreadable.stderr).toContain("not valid JSON");
  });
});

describe("troupe orchestrations apply and export", () => {
  it("round-trips exactly: export → apply is unchanged and saves no new version", async () => {
    const role = unique("Drafter");
    await apply("roles", writer(role));
    const name = unique("Two Steps");
    const flow = {
      name,
      steps: [
        { name: "Draft", roleName: role, inputMapping: { topic: "{{context.input.topic}}" } },
        { name: "Polish", roleName: role, condition: { field: "Draft", operator: "exists" } },
        // Every kind whose fields have server-side defaults, nested too.
        {
          name: "Each",
          stepType: "forEach",
          items: "{{context.input.items}}",
          steps: [{ name: "Item", roleName: role }],
        },
        {
          name: "Pick",
          stepType: "branch",
          branches: [
            { when: { field: "Draft", operator: "exists" }, steps: [{ name: "Yes", roleName: role }] },
          ],
          otherwise: [{ name: "No", roleName: role, maxRetries: 2 }],
        },
        { name: "Loop", stepType: "loop", maxIterations: 2, steps: [{ name: "Again", roleName: role }] },
        { name: "Check", stepType: "approval", message: "Ship it?" },
      ],
    };
    const created = await apply("orchestrations", flow);
    expect(created.stdout.trim()).toBe(`orchestration "${name}": created (version 1)`);
    // The hand-written file leaves the server's defaults out; it still matches what was stored.
    expect((await apply("orchestrations", flow)).stdout.trim()).toBe(
      `orchestration "${name}": unchanged (version 1)`,
    );

    const exportedFile = path.join(folder.dir, "exported.json");
    const exported = await troupe(["orchestrations", "export", name, "-o", exportedFile], { env });
    expect(exported.code).toBe(0);
    const text = readFileSync(exportedFile, "utf8");
    const reapplied = await troupe(["orchestrations", "apply", "-f", exportedFile], { env });
    expect(reapplied.stdout.trim()).toBe(`orchestration "${name}": unchanged (version 1)`);
    const exportedAgain = await troupe(["orchestrations", "export", name], { env });
    expect(exportedAgain.stdout).toBe(text);

    // The file is the whole definition: a removed condition is removed.
    const withoutCondition = JSON.parse(text) as typeof flow;
    delete (withoutCondition.steps[1] as { condition?: unknown }).condition;
    const updated = await apply("orchestrations", withoutCondition);
    expect(updated.stdout.trim()).toBe(`orchestration "${name}": updated (version 2)`);
    const got = JSON.parse((await troupe(["orchestrations", "get", name, "--json"], { env })).stdout);
    expect(got.version).toBe(2);
    expect(got.steps[1].condition).toBeUndefined();
  });
});

describe("troupe run", () => {
  it("prints each step as it completes and exits 0 on a completed run", async () => {
    const role = unique("Runner");
    const name = unique("Nap Then Write");
    await apply("roles", writer(role));
    await apply("orchestrations", {
      name,
      steps: [
        { name: "Nap", stepType: "sleep", duration: 1000 },
        { name: "Write", roleName: role, inputMapping: { topic: "{{context.input.topic}}" } },
      ],
    });
    const input = folder.file("input.json", { topic: "edges" });
    const result = await troupe(["run", name, "--input", input], { env });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toMatch(/^Started exe_/);
    expect(lines).toContain("Nap: completed");
    expect(lines.findIndex((l) => l.startsWith("Nap: sleeping until"))).toBeLessThan(
      lines.indexOf("Nap: completed"),
    );
    expect(lines.some((l) => /^Write: completed · \d+ tokens · \$0\.0000/.test(l))).toBe(true);
    expect(result.stdout).toMatch(/Execution exe_\w+ completed · in \d/);
    expect(result.stdout).toContain("edges");

    const json = await troupe(["run", name, "--input-json", '{"topic":"json"}', "--json"], { env });
    expect(json.code).toBe(0);
    const status = JSON.parse(json.stdout);
    expect(status.status).toBe("completed");
    expect(status.input).toEqual({ topic: "json" });
  });

  it("on a terminal, redraws one block: a spinner per running step, names, state, tokens and cost", async () => {
    const role = unique("Painter");
    const name = unique("Two Writes");
    await apply("roles", writer(role));
    await apply("orchestrations", {
      name,
      steps: [
        { name: "First", roleName: role },
        { name: "Second", roleName: role },
      ],
    });
    const status = JSON.parse((await troupe(["run", name, "--json"], { env })).stdout);
    // The finished run's status, with its second step shown as still running.
    status.status = "running";
    status.stepLogs[1].status = "running";
    let screen = "";
    const terminal = Object.assign(
      new Writable({
        write(chunk, _encoding, done) {
          screen += chunk.toString();
          done();
        },
      }),
      { isTTY: true, columns: 120, rows: 40 },
    ) as unknown as NodeJS.WriteStream;
    const progress = terminalProgress(terminal);
    progress.onStatus(status);
    progress.stop();
    const lines = stripVTControlCharacters(screen).split("\n");
    expect(lines[0]).toContain(`${name} · ${status.id} · running`);
    expect(lines.find((l) => l.includes("First"))).toMatch(/^✔ First\s+completed · \d+ tokens · \$0\.0000/);
    expect(lines.find((l) => l.includes("Second"))).toMatch(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Second\s+running · \d+ tokens/);
  });

  it("exits 1 on a failed run and prints why it failed", async () => {
    const role = unique("Too Small");
    const name = unique("Always Fails");
    await apply("roles", tooSmall(role));
    await apply("orchestrations", { name, steps: [{ name: "Answer", roleName: role }] });
    const result = await troupe(["run", name], { env });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^Answer: failed: .*over the limit of 1/m);
    expect(result.stdout).toMatch(/Execution exe_\w+ failed/);
    expect(result.stdout).toContain("error: ");
  });

  it("exits 2 for a missing --input file or bad flags, and starts nothing", async () => {
    const role = unique("Unused");
    const name = unique("Never Started");
    await apply("roles", writer(role));
    await apply("orchestrations", { name, steps: [{ name: "Step", roleName: role }] });
    const missing = await troupe(["run", name, "--input", path.join(folder.dir, "nope.json")], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("nope.json: no such file");
    expect(missing.stderr).toContain("troupe run --help");
    expect((await troupe(["run", name, "--input-json", "{nope"], { env })).code).toBe(2);
    expect((await troupe(["run", name, "--bogus"], { env })).code).toBe(2);
    expect((await troupe(["run"], { env })).code).toBe(2);
    const listed = await troupe(["executions", "list", "--orchestration", name, "--json"], { env });
    expect(JSON.parse(listed.stdout)).toEqual([]);

    const unknown = await troupe(["run", unique("No Such Flow")], { env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/NOT_FOUND: orchestration ".*" was not found/);
  });
});

describe("troupe executions", () => {
  it("cancels a running run (the watching `run` ends with exit 1) and shows its step log", async () => {
    const role = unique("Later");
    const name = unique("Slow");
    await apply("roles", writer(role));
    await apply("orchestrations", {
      name,
      steps: [
        { name: "Nap", stepType: "sleep", duration: 600_000 },
        { name: "After", roleName: role },
      ],
    });
    const watching = startCli(["run", name], { env });
    const started = await watching.line(/^Started exe_/);
    const executionId = started.split(" ")[1] ?? "";
    await watching.line(/^Nap: sleeping until/);

    const running = await troupe(
      ["executions", "list", "--orchestration", name, "--status", "running", "--json"],
      { env },
    );
    expect(JSON.parse(running.stdout).map((e: { id: string }) => e.id)).toEqual([executionId]);

    const cancelled = await troupe(["executions", "cancel", executionId], { env });
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toContain(`Execution ${executionId} cancelled`);
    const watched = await watching.done;
    expect(watched.code).toBe(1);
    expect(watched.stdout).toContain("Nap: cancelled");
    expect(watched.stdout).toContain(`Execution ${executionId} cancelled`);

    // Resume continues from what was cancelled: the nap starts again.
    const resumed = await troupe(["executions", "resume", executionId], { env });
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain(`Execution ${executionId} running`);
    expect((await troupe(["executions", "cancel", executionId], { env })).code).toBe(0);

    const logs = await troupe(["executions", "logs", executionId], { env });
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain("Nap (sleep): cancelled");
    expect(logs.stdout).toContain(`After (agent, role ${role}): cancelled`);
    const got = await troupe(["executions", "get", executionId, "--json"], { env });
    expect(JSON.parse(got.stdout)).toMatchObject({ id: executionId, status: "cancelled" });
    const listed = await troupe(["executions", "list", "--status", "cancelled"], { env });
    expect(listed.stdout).toMatch(new RegExp(`^${executionId}\\s+cancelled\\s+${name} v1`, "m"));

    const unknown = await troupe(["executions", "get", "exe_unknown"], { env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("NOT_FOUND");
  });

  it("answers --help for every command", async () => {
    for (const command of [[], ["login"], ["roles"], ["orchestrations"], ["run"], ["executions"]]) {
      const help = await troupe([...command, "--help"], { env });
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/^Usage: troupe/);
    }
  });
});
