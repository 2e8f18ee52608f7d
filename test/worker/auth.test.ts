// Sign-up, login, logout and "who am I" through the real Worker: the codes and messages a client sees,
// the cookie a browser keeps, and what ends up in D1 (hashes only, never a password or session token).
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  errorOf,
  makeClient,
  newTenant,
  PASSWORD,
  postTrpc,
  sessionTokenOf,
  uniqueEmail,
  uniqueIp,
} from "../helpers/client";
import { countRows, placesStoring, rowsOf, sha256Hex } from "../helpers/db";

const FIFTEEN_MINUTES_MS = 15 * 60 * 1000;
const THIRTY_DAYS_S = 30 * 24 * 60 * 60;
const THIRTY_DAYS_MS = THIRTY_DAYS_S * 1000;

/** A signed-out client with an address of its own, so rate limits never leak between tests. */
function freshClient() {
  return makeClient({ headers: { "cf-connecting-ip": uniqueIp() } });
}

function tokenOf(client: { jar: { cookie?: string } }): string {
  const token = sessionTokenOf(client);
  expect(token).toMatch(/^[0-9a-f]{64}$/);
  return token;
}

/** `troupe_session=abc; Path=/; HttpOnly` -> { name: "troupe_session", value: "abc", attributes: path, httponly } */
function parseSetCookie(header: string | null) {
  expect(header).toBeTruthy();
  const [pair = "", ...rest] = (header ?? "").split(";").map((part) => part.trim());
  const attributes = new Map(
    rest.map((part) => {
      const [name = "", ...value] = part.split("=");
      return [name.toLowerCase(), value.join("=")] as const;
    }),
  );
  const [name, ...value] = pair.split("=");
  return { name, value: value.join("="), attributes };
}

async function pbkdf2Sha256Hex(password: string, saltHex: string, iterations: number): Promise<string> {
  const salt = new Uint8Array((saltHex.match(/../g) ?? []).map((byte) => Number.parseInt(byte, 16)));
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, [
    "deriveBits",
  ]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    key,
    256,
  );
  return [...new Uint8Array(bits)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

afterEach(() => {
  vi.useRealTimers();
});

describe("auth.signup", () => {
  it("creates a tenant and its first user, and signs them in", async () => {
    const trpc = freshClient();
    const email = uniqueEmail("founder");
    const account = await trpc.auth.signup.mutate({ tenantName: "Acme Robotics", email, password: PASSWORD });

    expect(account.user.email).toBe(email);
    expect(account.tenant.name).toBe("Acme Robotics");
    expect(await trpc.auth.me.query()).toEqual({
      via: "session",
      user: account.user,
      tenant: account.tenant,
      apiKey: null,
    });
    expect(await rowsOf("tenants", "id = ?", account.tenant.id)).toMatchObject([{ name: "Acme Robotics" }]);
    expect(await rowsOf("users", "id = ?", account.user.id)).toMatchObject([
      { email, tenant_id: account.tenant.id },
    ]);
  });

  it("stores the password as PBKDF2-SHA256 with 100000 iterations and a salt per user", async () => {
    const password = `same password ${crypto.randomUUID()}`;
    const emails = [uniqueEmail("first"), uniqueEmail("second")];
    for (const email of emails) {
      await freshClient().auth.signup.mutate({ tenantName: "Salted", email, password });
    }

    const rows = await Promise.all(
      emails.map(async (email) => (await rowsOf("users", "email = ?", email))[0]),
    );
    for (const row of rows) {
      expect(row?.password_iterations).toBe(100_000);
      expect(row?.password_salt).toMatch(/^[0-9a-f]{32,}$/);
      expect(row?.password_hash).toBe(await pbkdf2Sha256Hex(password, String(row?.password_salt), 100_000));
    }
    expect(rows[0]?.password_salt).not.toBe(rows[1]?.password_salt);
    expect(rows[0]?.password_hash).not.toBe(rows[1]?.password_hash);
    expect(await placesStoring(password)).toEqual([]);
  });

  it("keeps only a SHA-256 of the session token in D1", async () => {
    const trpc = freshClient();
    await trpc.auth.signup.mutate({ tenantName: "Hashed", email: uniqueEmail(), password: PASSWORD });
    const token = tokenOf(trpc);

    expect(await countRows("sessions", "token_hash = ?", await sha256Hex(token))).toBe(1);
    expect(await placesStoring(token)).toEqual([]);
  });

  it("trims and lowercases the email, so any spelling signs in to the same account", async () => {
    const email = uniqueEmail("mixed");
    const account = await freshClient().auth.signup.mutate({
      tenantName: "Cased",
      email: `  ${email.toUpperCase()} `,
      password: PASSWORD,
    });
    expect(account.user.email).toBe(email);

    const login = await freshClient().auth.login.mutate({ email: email.toUpperCase(), password: PASSWORD });
    expect(login.user.id).toBe(account.user.id);
  });

  it("refuses an email that is already registered with CONFLICT on email, and creates no tenant", async () => {
    const first = await newTenant("original");
    const tenantName = `Duplicate ${crypto.randomUUID()}`;

    const error = await errorOf(
      freshClient().auth.signup.mutate({ tenantName, email: first.email.toUpperCase(), password: PASSWORD }),
    );

    expect(error.code).toBe("CONFLICT");
    expect(error.httpStatus).toBe(409);
    expect(error.message).toMatch(/^email: /);
    expect(error.issues).toEqual([{ path: "email", message: expect.stringContaining("already registered") }]);
    expect(await countRows("tenants", "name = ?", tenantName)).toBe(0);
    expect(await countRows("users", "email = ?", first.email)).toBe(1);
  });

  const valid = () => ({
    tenantName: `Valid ${crypto.randomUUID()}`,
    email: uniqueEmail(),
    password: PASSWORD,
  });
  it.each([
    { field: "email", change: { email: "not-an-email" }, says: "must be an email address" },
    { field: "email", change: { email: "" }, says: "must be an email address" },
    { field: "password", change: { password: "short" }, says: "at least 10 characters" },
    { field: "password", change: { password: "x".repeat(257) }, says: "at most 256 characters" },
    { field: "tenantName", change: { tenantName: "" }, says: "must not be empty" },
    { field: "tenantName", change: { tenantName: "   " }, says: "must not be empty" },
    { field: "tenantName", change: { tenantName: "a".repeat(101) }, says: "at most 100 characters" },
    { field: "tenantName", change: { tenantName: undefined }, says: "" },
  ])(
    "refuses $field $change with BAD_REQUEST naming the field, writing nothing",
    async ({ field, change, says }) => {
      const input = { ...valid(), ...change };
      const error = await errorOf(freshClient().auth.signup.mutate(input as ReturnType<typeof valid>));

      expect(error.code).toBe("BAD_REQUEST");
      expect(error.httpStatus).toBe(400);
      expect(error.issues).toContainEqual({ path: field, message: expect.stringContaining(says) });
      expect(error.message).toContain(`${field}: `);
      expect(await countRows("users", "email = ?", input.email)).toBe(0);
      expect(await countRows("tenants", "name = ?", input.tenantName ?? "")).toBe(0);
    },
  );

  it("refuses an unknown extra field with BAD_REQUEST naming it, writing nothing", async () => {
    const input = { ...valid(), isAdmin: true };
    const error = await errorOf(freshClient().auth.signup.mutate(input as ReturnType<typeof valid>));

    expect(error.code).toBe("BAD_REQUEST");
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]?.message).toContain('"isAdmin"');
    expect(error.message).toContain("isAdmin");
    expect(await countRows("users", "email = ?", input.email)).toBe(0);
    expect(await countRows("tenants", "name = ?", input.tenantName)).toBe(0);
  });

  it("lets at most 20 of many parallel sign-ups from one address through", async () => {
    const ip = uniqueIp();
    const attempts = Array.from({ length: 30 }, (_, i) =>
      makeClient({ headers: { "cf-connecting-ip": ip } })
        .auth.signup.mutate({ tenantName: `Rush ${i}`, email: uniqueEmail("rush"), password: PASSWORD })
        .then(
          () => "created",
          (error: unknown) => (error as { data?: { code?: string } }).data?.code,
        ),
    );
    const outcomes = await Promise.all(attempts);

    expect(outcomes.filter((outcome) => outcome === "created").length).toBe(20);
    expect(outcomes.filter((outcome) => outcome === "TOO_MANY_REQUESTS").length).toBe(10);
  });

  it("does not count a sign-up refused for a taken email against the address", async () => {
    const { email } = await newTenant("taken");
    const trpc = freshClient();
    for (let i = 0; i < 25; i++) {
      const error = await errorOf(
        trpc.auth.signup.mutate({ tenantName: "Again", email, password: PASSWORD }),
      );
      expect(error.code).toBe("CONFLICT");
    }
    await trpc.auth.signup.mutate({ tenantName: "Fresh", email: uniqueEmail("fresh"), password: PASSWORD });
  });

  it("refuses a 21st sign-up from one address within the hour with TOO_MANY_REQUESTS", async () => {
    const trpc = freshClient();
    for (let i = 0; i < 20; i++) {
      await trpc.auth.signup.mutate({
        tenantName: `Burst ${i}`,
        email: uniqueEmail("burst"),
        password: PASSWORD,
      });
    }
    const email = uniqueEmail("burst");
    const error = await errorOf(
      trpc.auth.signup.mutate({ tenantName: "Burst 21", email, password: PASSWORD }),
    );

    expect(error.code).toBe("TOO_MANY_REQUESTS");
    expect(error.httpStatus).toBe(429);
    expect(await countRows("users", "email = ?", email)).toBe(0);
    await freshClient().auth.signup.mutate({ tenantName: "Elsewhere", email, password: PASSWORD });
  });
});

describe("the session cookie", () => {
  const signupAt = (url: string) =>
    postTrpc(
      `${url}/trpc/auth.signup`,
      { tenantName: "Cookie Co", email: uniqueEmail("cookie"), password: PASSWORD },
      { "cf-connecting-ip": uniqueIp() },
    );

  it.each(["http://localhost", "http://localhost:8787", "http://127.0.0.1:8787", "http://[::1]:8787"])(
    "is HttpOnly, SameSite=Lax, Path=/ and not Secure at %s",
    async (origin) => {
      const response = await signupAt(origin);
      expect(response.status).toBe(200);

      const cookie = parseSetCookie(response.headers.get("set-cookie"));
      expect(cookie.name).toBe("troupe_session");
      expect(cookie.value).toMatch(/^[0-9a-f]{64}$/);
      expect(cookie.attributes.has("httponly")).toBe(true);
      expect(cookie.attributes.get("samesite")).toBe("Lax");
      expect(cookie.attributes.get("path")).toBe("/");
      expect(cookie.attributes.has("secure")).toBe(false);
    },
  );

  it.each(["https://troupe.example.com", "http://troupe.example.com"])(
    "is Secure as well as HttpOnly and SameSite=Lax at %s",
    async (origin) => {
      const response = await signupAt(origin);
      expect(response.status).toBe(200);

      const cookie = parseSetCookie(response.headers.get("set-cookie"));
      expect(cookie.attributes.has("secure")).toBe(true);
      expect(cookie.attributes.has("httponly")).toBe(true);
      expect(cookie.attributes.get("samesite")).toBe("Lax");
      expect(Number(cookie.attributes.get("max-age"))).toBeGreaterThan(THIRTY_DAYS_S - 60);
      expect(Number(cookie.attributes.get("max-age"))).toBeLessThanOrEqual(THIRTY_DAYS_S);
    },
  );

  it("is set Secure by login and cleared Secure by logout away from localhost", async () => {
    const { email } = await newTenant("remote");
    const origin = "https://troupe.example.com";
    const ip = { "cf-connecting-ip": uniqueIp() };

    const login = await postTrpc(`${origin}/trpc/auth.login`, { email, password: PASSWORD }, ip);
    expect(login.status).toBe(200);
    const issued = parseSetCookie(login.headers.get("set-cookie"));
    expect(issued.attributes.has("secure")).toBe(true);
    expect(issued.attributes.has("httponly")).toBe(true);
    expect(issued.attributes.get("samesite")).toBe("Lax");

    const logout = await postTrpc(`${origin}/trpc/auth.logout`, undefined, {
      ...ip,
      cookie: `troupe_session=${issued.value}`,
    });
    expect(logout.status).toBe(200);
    const cleared = parseSetCookie(logout.headers.get("set-cookie"));
    expect(cleared).toMatchObject({ name: "troupe_session", value: "" });
    expect(cleared.attributes.get("max-age")).toBe("0");
    expect(cleared.attributes.has("secure")).toBe(true);
    expect(await countRows("sessions", "token_hash = ?", await sha256Hex(issued.value))).toBe(0);
  });
});

describe("auth.login", () => {
  it("signs in with the right password to a new session of the same account", async () => {
    const founder = await newTenant("login");
    const trpc = freshClient();

    const account = await trpc.auth.login.mutate({ email: founder.email, password: PASSWORD });

    expect(account).toEqual({ user: founder.user, tenant: founder.tenant });
    expect(await trpc.auth.me.query()).toMatchObject({ via: "session", user: founder.user });
    expect(tokenOf(trpc)).not.toBe(tokenOf(founder.trpc));
  });

  it("refuses a wrong password with UNAUTHORIZED and sets no cookie", async () => {
    const { email } = await newTenant("wrong");
    const response = await postTrpc(
      "http://localhost/trpc/auth.login",
      { email, password: `${PASSWORD}!` },
      { "cf-connecting-ip": uniqueIp() },
    );

    expect(response.status).toBe(401);
    expect(response.headers.get("set-cookie")).toBeNull();
    const body = (await response.json()) as { error: { message: string; data: { code: string } } };
    expect(body.error).toMatchObject({
      message: "email or password is incorrect",
      data: { code: "UNAUTHORIZED" },
    });
  });

  it("answers an unknown email exactly as a wrong password", async () => {
    const { email } = await newTenant("known");
    const wrongPassword = await errorOf(freshClient().auth.login.mutate({ email, password: "not the one!" }));
    const unknownEmail = await errorOf(
      freshClient().auth.login.mutate({ email: uniqueEmail("nobody"), password: PASSWORD }),
    );

    expect(unknownEmail).toEqual(wrongPassword);
    expect(unknownEmail).toMatchObject({ code: "UNAUTHORIZED", message: "email or password is incorrect" });
  });

  it.each([
    { field: "email", input: { email: "ada", password: PASSWORD }, says: "must be an email address" },
    { field: "password", input: { email: "ada@example.com", password: "" }, says: "must not be empty" },
    {
      field: "password",
      input: { email: "ada@example.com", password: "x".repeat(257) },
      says: "must be at most 256 characters",
    },
  ])("refuses a malformed $field with BAD_REQUEST naming it", async ({ field, input, says }) => {
    const error = await errorOf(freshClient().auth.login.mutate(input));
    expect(error.code).toBe("BAD_REQUEST");
    expect(error.issues).toEqual([{ path: field, message: expect.stringContaining(says) }]);
  });
});

describe("login rate limits", () => {
  it("locks an email after 5 failures in 15 minutes, even for the right password from elsewhere", async () => {
    const { email } = await newTenant("locked");
    const trpc = freshClient();
    for (let i = 0; i < 5; i++) {
      expect((await errorOf(trpc.auth.login.mutate({ email, password: `guess number ${i}` }))).code).toBe(
        "UNAUTHORIZED",
      );
    }

    for (const client of [trpc, freshClient()]) {
      const error = await errorOf(
        client.auth.login.mutate({ email: email.toUpperCase(), password: PASSWORD }),
      );
      expect(error.code).toBe("TOO_MANY_REQUESTS");
      expect(error.httpStatus).toBe(429);
      expect(error.message).toMatch(/^too many failed logins; try again in (8\d\d|900) s$/);
    }
    expect(trpc.jar.cookie).toBeUndefined();
  });

  it("lets the email in again once the 15 minutes have passed", async () => {
    const { email } = await newTenant("unlocked");
    const trpc = freshClient();
    for (let i = 0; i < 5; i++) await errorOf(trpc.auth.login.mutate({ email, password: `guess ${i}` }));

    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + FIFTEEN_MINUTES_MS - 60_000 });
    expect((await errorOf(trpc.auth.login.mutate({ email, password: PASSWORD }))).code).toBe(
      "TOO_MANY_REQUESTS",
    );
    vi.setSystemTime(Date.now() + 61_000);
    const account = await trpc.auth.login.mutate({ email, password: PASSWORD });
    expect(account.user.email).toBe(email);
  });

  it("forgets an email's failures after a successful login", async () => {
    const { email } = await newTenant("forgiven");
    const trpc = freshClient();
    for (let i = 0; i < 4; i++) await errorOf(trpc.auth.login.mutate({ email, password: `guess ${i}` }));
    await trpc.auth.login.mutate({ email, password: PASSWORD });
    for (let i = 0; i < 4; i++) await errorOf(trpc.auth.login.mutate({ email, password: `again ${i}` }));

    const account = await trpc.auth.login.mutate({ email, password: PASSWORD });
    expect(account.user.email).toBe(email);
  });

  it("does not lock other emails when one is locked", async () => {
    const locked = await newTenant("victim");
    const other = await newTenant("bystander");
    for (let i = 0; i < 5; i++) {
      await errorOf(freshClient().auth.login.mutate({ email: locked.email, password: `guess ${i}` }));
    }

    const account = await freshClient().auth.login.mutate({ email: other.email, password: PASSWORD });
    expect(account.user.id).toBe(other.user.id);
  });

  it("lets at most 5 of many parallel wrong guesses for one email reach the password check", async () => {
    const { email } = await newTenant("parallel");
    const guesses = Array.from({ length: 20 }, (_, i) =>
      errorOf(freshClient().auth.login.mutate({ email, password: `parallel guess ${i}` })),
    );
    const codes = (await Promise.all(guesses)).map((error) => error.code);

    expect(codes.filter((code) => code === "UNAUTHORIZED").length).toBeLessThanOrEqual(5);
    expect(codes.filter((code) => code === "TOO_MANY_REQUESTS").length).toBeGreaterThanOrEqual(15);
    expect((await errorOf(freshClient().auth.login.mutate({ email, password: PASSWORD }))).code).toBe(
      "TOO_MANY_REQUESTS",
    );
  });

  it("does not count successful logins against the address", async () => {
    const { email } = await newTenant("office");
    const office = freshClient();
    for (let i = 0; i < 55; i++) await office.auth.login.mutate({ email, password: PASSWORD });

    const error = await errorOf(office.auth.login.mutate({ email: uniqueEmail("typo"), password: PASSWORD }));
    expect(error.code).toBe("UNAUTHORIZED");
  }, 60_000);

  it("locks an address after 50 failures across emails, but not other addresses", async () => {
    const { email } = await newTenant("spray");
    const attacker = freshClient();
    for (let i = 0; i < 50; i++) {
      const error = await errorOf(
        attacker.auth.login.mutate({ email: uniqueEmail("sprayed"), password: `guess ${i}` }),
      );
      expect(error.code).toBe("UNAUTHORIZED");
    }

    const blocked = await errorOf(attacker.auth.login.mutate({ email, password: PASSWORD }));
    expect(blocked.code).toBe("TOO_MANY_REQUESTS");
    const account = await freshClient().auth.login.mutate({ email, password: PASSWORD });
    expect(account.user.email).toBe(email);
  }, 60_000);
});

describe("auth.logout", () => {
  it("ends the session, so the old cookie is refused by auth.me", async () => {
    const { trpc } = await newTenant("leaving");
    const oldCookie = trpc.jar.cookie;
    const tokenHash = await sha256Hex(tokenOf(trpc));

    expect(await trpc.auth.logout.mutate()).toEqual({ loggedOut: true });

    expect(trpc.jar.cookie).toBe("troupe_session=");
    expect(await countRows("sessions", "token_hash = ?", tokenHash)).toBe(0);
    const error = await errorOf(makeClient({ cookie: oldCookie }).auth.me.query());
    expect(error.code).toBe("UNAUTHORIZED");
    expect(error.message).toContain("log in again");
    expect((await errorOf(trpc.auth.me.query())).code).toBe("UNAUTHORIZED");
  });

  it("ends only that session; the user's other sessions stay signed in", async () => {
    const founder = await newTenant("two-devices");
    const laptop = freshClient();
    await laptop.auth.login.mutate({ email: founder.email, password: PASSWORD });

    await founder.trpc.auth.logout.mutate();

    expect((await laptop.auth.me.query()).user?.id).toBe(founder.user.id);
  });

  it("ends the cookie's session even when the request also carries an Authorization header", async () => {
    const { trpc } = await newTenant("mixed-credentials");
    const cookie = trpc.jar.cookie;
    const withHeader = makeClient({ cookie, headers: { authorization: "Bearer not-a-key" } });

    await withHeader.auth.logout.mutate();

    expect(await countRows("sessions", "token_hash = ?", await sha256Hex(tokenOf(trpc)))).toBe(0);
    expect((await errorOf(makeClient({ cookie }).auth.me.query())).code).toBe("UNAUTHORIZED");
  });

  it("succeeds without a session", async () => {
    expect(await freshClient().auth.logout.mutate()).toEqual({ loggedOut: true });
  });
});

describe("auth.me", () => {
  it("refuses a session once its 30 days are over", async () => {
    const start = Date.now();
    vi.useFakeTimers({ toFake: ["Date"], now: start });
    const { trpc } = await newTenant("expiring");

    vi.setSystemTime(start + THIRTY_DAYS_MS - 1000);
    expect((await trpc.auth.me.query()).via).toBe("session");
    vi.setSystemTime(start + THIRTY_DAYS_MS + 1000);
    const error = await errorOf(trpc.auth.me.query());
    expect(error.code).toBe("UNAUTHORIZED");
    expect(error.message).toContain("log in again");
  });

  it("refuses a caller without credentials with UNAUTHORIZED saying how to sign in", async () => {
    const error = await errorOf(freshClient().auth.me.query());
    expect(error).toMatchObject({ code: "UNAUTHORIZED", httpStatus: 401 });
    expect(error.message).toContain("Authorization: Bearer");
  });

  it.each([`troupe_session=${"ab".repeat(32)}`, "troupe_session=not-a-token"])(
    "refuses a made-up session cookie %s",
    async (cookie) => {
      expect((await errorOf(makeClient({ cookie }).auth.me.query())).code).toBe("UNAUTHORIZED");
    },
  );

  it("returns no password, hash, salt or session token", async () => {
    const password = `secret ${crypto.randomUUID()}`;
    const trpc = freshClient();
    const email = uniqueEmail("private");
    const responses = [
      await trpc.auth.signup.mutate({ tenantName: "Private", email, password }),
      await trpc.auth.me.query(),
      await trpc.auth.login.mutate({ email, password }),
      await trpc.auth.me.query(),
    ];
    const [user] = await rowsOf("users", "email = ?", email);
    const token = tokenOf(trpc);

    const text = JSON.stringify(responses);
    for (const secret of [
      password,
      token,
      await sha256Hex(token),
      user?.password_hash,
      user?.password_salt,
    ]) {
      expect(text).not.toContain(String(secret));
    }
    expect(text).not.toMatch(/password|salt|token|hash/i);
  });
});
