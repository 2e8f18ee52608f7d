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

  it("answers a registered email as it answers a new one, writing nothing and signing nobody in", async () => {
    const first = await newTenant("original");
    const signupAs = (email: string, tenantName: string) =>
      postTrpc(
        "http://localhost/trpc/auth.signup",
        { tenantName, email, password: PASSWORD },
        { "cf-connecting-ip": uniqueIp() },
      );
    const shapeOf = async (response: Response) => {
      const cookie = parseSetCookie(response.headers.get("set-cookie"));
      const body = (await response.json()) as { result: { data: Record<string, Record<string, string>> } };
      const { user, tenant } = body.result.data;
      return {
        status: response.status,
        cookie: { ...cookie, value: cookie.value.replace(/[0-9a-f]/g, "h") },
        user: { id: user?.id?.replace(/_.*/, "_"), email: typeof user?.email },
        tenant: { id: tenant?.id?.replace(/_.*/, "_"), name: typeof tenant?.name },
      };
    };
    const tenantName = `Duplicate ${crypto.randomUUID()}`;

    const taken = await signupAs(first.email.toUpperCase(), tenantName);
    const fresh = await signupAs(uniqueEmail("fresh"), `Fresh ${crypto.randomUUID()}`);

    const takenShape = await shapeOf(taken.clone());
    expect(takenShape).toEqual(await shapeOf(fresh));
    expect(takenShape.status).toBe(200);
    expect(await countRows("tenants", "name = ?", tenantName)).toBe(0);
    expect(await countRows("users", "email = ?", first.email)).toBe(1);
    const token = parseSetCookie(taken.headers.get("set-cookie")).value;
    expect(await countRows("sessions", "token_hash = ?", await sha256Hex(token))).toBe(0);
    const me = await errorOf(makeClient({ cookie: `troupe_session=${token}` }).auth.me.query());
    expect(me.code).toBe("UNAUTHORIZED");
    expect((await first.trpc.auth.me.query()).user?.id).toBe(first.user.id);
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

  it("counts sign-ups for a taken email against the address, so probing for emails is limited", async () => {
    const { email } = await newTenant("taken");
    const trpc = freshClient();
    for (let i = 0; i < 20; i++) {
      await trpc.auth.signup.mutate({ tenantName: "Again", email, password: PASSWORD });
    }
    const error = await errorOf(trpc.auth.signup.mutate({ tenantName: "Again", email, password: PASSWORD }));
    expect(error.code).toBe("TOO_MANY_REQUESTS");
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

describe("login back-off", () => {
  /** Logs in as a raw request, to read the status and the Retry-After header. */
  const attempt = (email: string, password: string, ip = uniqueIp()) =>
    postTrpc("http://localhost/trpc/auth.login", { email, password }, { "cf-connecting-ip": ip });
  const fail = async (email: string, guess: string) =>
    expect((await errorOf(freshClient().auth.login.mutate({ email, password: guess }))).code).toBe(
      "UNAUTHORIZED",
    );

  it("lets 3 failures through, then makes the next attempt wait 8 s, even the owner's from elsewhere", async () => {
    const { email } = await newTenant("slowed");
    for (let i = 0; i < 3; i++) await fail(email, `guess number ${i}`);

    const refused = await attempt(email.toUpperCase(), PASSWORD);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toMatch(/^[78]$/);
    expect(refused.headers.get("set-cookie")).toBeNull();
    const body = (await refused.json()) as { error: { message: string; data: { code: string } } };
    expect(body.error.data.code).toBe("TOO_MANY_REQUESTS");
    expect(body.error.message).toMatch(/^too many failed logins for this email; try again in [78] s$/);
  });

  it("lets the right password in once the wait is over, and forgets the failures", async () => {
    const start = Date.now();
    vi.useFakeTimers({ toFake: ["Date"], now: start });
    const { email } = await newTenant("waited");
    for (let i = 0; i < 3; i++) await fail(email, `guess ${i}`);

    vi.setSystemTime(start + 7_000);
    expect((await attempt(email, PASSWORD)).status).toBe(429);
    vi.setSystemTime(start + 8_000);
    expect((await freshClient().auth.login.mutate({ email, password: PASSWORD })).user.email).toBe(email);

    for (let i = 0; i < 3; i++) await fail(email, `again ${i}`);
    expect((await attempt(email, `one more`)).status).toBe(429);
  });

  it("doubles the wait with every further failure, and never makes anyone wait over 15 minutes", async () => {
    let now = Date.now();
    vi.useFakeTimers({ toFake: ["Date"], now });
    const { email } = await newTenant("doubling");
    const waits: number[] = [];
    for (let i = 0; i < 3; i++) await fail(email, `free ${i}`);
    for (let i = 0; i < 9; i++) {
      const refused = await attempt(email, `guess ${i}`);
      expect(refused.status).toBe(429);
      const wait = Number(refused.headers.get("retry-after"));
      waits.push(wait);
      now += wait * 1000;
      vi.setSystemTime(now);
      await fail(email, `guess ${i}`);
    }

    expect(waits).toEqual([8, 16, 32, 64, 128, 256, 512, 900, 900]);
    // However many failures an attacker piles up, the owner is never more than 15 minutes away.
    vi.setSystemTime(now + FIFTEEN_MINUTES_MS);
    expect((await freshClient().auth.login.mutate({ email, password: PASSWORD })).user.email).toBe(email);
  });

  it("forgets an email's failures a day after the last one", async () => {
    const start = Date.now();
    vi.useFakeTimers({ toFake: ["Date"], now: start });
    const { email } = await newTenant("forgotten");
    for (let i = 0; i < 3; i++) await fail(email, `guess ${i}`);
    vi.setSystemTime(start + 24 * 60 * 60 * 1000);
    for (let i = 0; i < 3; i++) await fail(email, `later ${i}`);
    expect((await attempt(email, PASSWORD)).status).toBe(429);
  });

  it("does not hold up other emails", async () => {
    const slowed = await newTenant("victim");
    const other = await newTenant("bystander");
    for (let i = 0; i < 3; i++) await fail(slowed.email, `guess ${i}`);

    const account = await freshClient().auth.login.mutate({ email: other.email, password: PASSWORD });
    expect(account.user.id).toBe(other.user.id);
  });

  it("lets at most 3 of many parallel wrong guesses for one email reach the password check", async () => {
    const { email } = await newTenant("parallel");
    const guesses = Array.from({ length: 20 }, (_, i) =>
      errorOf(freshClient().auth.login.mutate({ email, password: `parallel guess ${i}` })),
    );
    const codes = (await Promise.all(guesses)).map((error) => error.code);

    expect(codes.filter((code) => code === "UNAUTHORIZED").length).toBeLessThanOrEqual(3);
    expect(codes.filter((code) => code === "TOO_MANY_REQUESTS").length).toBeGreaterThanOrEqual(17);
    expect((await attempt(email, PASSWORD)).status).toBe(429);
  });

  it("keeps only a hash of the email with its failures", async () => {
    const email = uniqueEmail("unknown");
    await fail(email, "any guess");
    expect(await rowsOf("login_backoff", "email_hash = ?", await sha256Hex(`login:${email}`))).toMatchObject([
      { failures: 1 },
    ]);
    expect(await placesStoring(email)).toEqual([]);
  });
});

describe("login limit per address", () => {
  it("does not count successful logins against the address", async () => {
    const { email } = await newTenant("office");
    const office = freshClient();
    for (let i = 0; i < 55; i++) await office.auth.login.mutate({ email, password: PASSWORD });

    const error = await errorOf(office.auth.login.mutate({ email: uniqueEmail("typo"), password: PASSWORD }));
    expect(error.code).toBe("UNAUTHORIZED");
  }, 60_000);

  it("stops an address after 50 failures across emails, saying when to retry, but not other addresses", async () => {
    const { email } = await newTenant("spray");
    const ip = uniqueIp();
    const attacker = makeClient({ headers: { "cf-connecting-ip": ip } });
    for (let i = 0; i < 50; i++) {
      const error = await errorOf(
        attacker.auth.login.mutate({ email: uniqueEmail("sprayed"), password: `guess ${i}` }),
      );
      expect(error.code).toBe("UNAUTHORIZED");
    }

    const blocked = await postTrpc(
      "http://localhost/trpc/auth.login",
      { email, password: PASSWORD },
      { "cf-connecting-ip": ip },
    );
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(800);
    expect(((await blocked.json()) as { error: { message: string } }).error.message).toMatch(
      /^too many failed logins from this address; try again in \d+ s$/,
    );
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

describe("auth.changePassword", () => {
  const NEW_PASSWORD = "a brand new password";

  it("replaces the password and ends the user's other sessions, keeping this one", async () => {
    const founder = await newTenant("changing");
    const laptop = freshClient();
    await laptop.auth.login.mutate({ email: founder.email, password: PASSWORD });
    const colleague = await newTenant("colleague");
    const [before] = await rowsOf("users", "id = ?", founder.user.id);

    const answer = await founder.trpc.auth.changePassword.mutate({
      currentPassword: PASSWORD,
      newPassword: NEW_PASSWORD,
    });

    expect(answer).toEqual({ changed: true, endedSessions: 1 });
    expect((await founder.trpc.auth.me.query()).user?.id).toBe(founder.user.id);
    expect((await errorOf(laptop.auth.me.query())).code).toBe("UNAUTHORIZED");
    expect((await colleague.trpc.auth.me.query()).user?.id).toBe(colleague.user.id);
    const [after] = await rowsOf("users", "id = ?", founder.user.id);
    expect(after?.password_salt).not.toBe(before?.password_salt);
    expect(after?.password_hash).toBe(
      await pbkdf2Sha256Hex(NEW_PASSWORD, String(after?.password_salt), 100_000),
    );
    expect(await placesStoring(NEW_PASSWORD)).toEqual([]);

    const old = await errorOf(freshClient().auth.login.mutate({ email: founder.email, password: PASSWORD }));
    expect(old.code).toBe("UNAUTHORIZED");
    const fresh = await freshClient().auth.login.mutate({ email: founder.email, password: NEW_PASSWORD });
    expect(fresh.user.id).toBe(founder.user.id);
  });

  it("refuses a wrong current password with BAD_REQUEST on currentPassword, changing nothing", async () => {
    const founder = await newTenant("wrong-current");
    const laptop = freshClient();
    await laptop.auth.login.mutate({ email: founder.email, password: PASSWORD });
    const [before] = await rowsOf("users", "id = ?", founder.user.id);

    const error = await errorOf(
      founder.trpc.auth.changePassword.mutate({
        currentPassword: "not the password",
        newPassword: NEW_PASSWORD,
      }),
    );

    expect(error).toMatchObject({ code: "BAD_REQUEST", httpStatus: 400 });
    expect(error.issues).toEqual([{ path: "currentPassword", message: "is not your current password" }]);
    expect(await rowsOf("users", "id = ?", founder.user.id)).toEqual([before]);
    expect((await laptop.auth.me.query()).user?.id).toBe(founder.user.id);
  });

  it("backs off wrong current passwords like logins, so a stolen session cannot guess it", async () => {
    const founder = await newTenant("guessing");
    for (let i = 0; i < 3; i++) {
      const error = await errorOf(
        founder.trpc.auth.changePassword.mutate({ currentPassword: `guess ${i}`, newPassword: NEW_PASSWORD }),
      );
      expect(error.code).toBe("BAD_REQUEST");
    }
    const error = await errorOf(
      founder.trpc.auth.changePassword.mutate({ currentPassword: PASSWORD, newPassword: NEW_PASSWORD }),
    );
    expect(error.code).toBe("TOO_MANY_REQUESTS");
    expect(error.message).toMatch(/^too many failed logins for this email; try again in \d s$/);
  });

  it.each([
    { field: "newPassword", input: { currentPassword: PASSWORD, newPassword: "short" }, says: "at least 10" },
    {
      field: "newPassword",
      input: { currentPassword: PASSWORD, newPassword: PASSWORD },
      says: "must differ",
    },
    {
      field: "currentPassword",
      input: { currentPassword: "", newPassword: NEW_PASSWORD },
      says: "must not be empty",
    },
  ])(
    "refuses a bad $field ($says) with BAD_REQUEST naming it, changing nothing",
    async ({ field, input, says }) => {
      const founder = await newTenant("invalid-change");
      const [before] = await rowsOf("users", "id = ?", founder.user.id);

      const error = await errorOf(founder.trpc.auth.changePassword.mutate(input));

      expect(error.code).toBe("BAD_REQUEST");
      expect(error.issues).toContainEqual({ path: field, message: expect.stringContaining(says) });
      expect(await rowsOf("users", "id = ?", founder.user.id)).toEqual([before]);
    },
  );

  it("is refused to an API key with FORBIDDEN, and to a signed-out caller with UNAUTHORIZED", async () => {
    const founder = await newTenant("keyed");
    const { key } = await founder.trpc.apiKey.create.mutate({ name: "automation" });
    const input = { currentPassword: PASSWORD, newPassword: NEW_PASSWORD };

    const viaKey = await errorOf(makeClient({ apiKey: key }).auth.changePassword.mutate(input));
    expect(viaKey.code).toBe("FORBIDDEN");
    expect(viaKey.message).toContain("signed-in session");
    expect((await errorOf(freshClient().auth.changePassword.mutate(input))).code).toBe("UNAUTHORIZED");
    await freshClient().auth.login.mutate({ email: founder.email, password: PASSWORD });
  });
});

describe("auth.signOutEverywhere", () => {
  it("ends every session of the user, this one included, and clears the cookie", async () => {
    const founder = await newTenant("everywhere");
    const laptop = freshClient();
    await laptop.auth.login.mutate({ email: founder.email, password: PASSWORD });
    const colleague = await newTenant("unaffected");
    const tokenHash = await sha256Hex(tokenOf(founder.trpc));

    expect(await founder.trpc.auth.signOutEverywhere.mutate()).toEqual({ endedSessions: 2 });

    expect(founder.trpc.jar.cookie).toBe("troupe_session=");
    expect(await countRows("sessions", "user_id = ?", founder.user.id)).toBe(0);
    expect(await countRows("sessions", "token_hash = ?", tokenHash)).toBe(0);
    expect((await errorOf(laptop.auth.me.query())).code).toBe("UNAUTHORIZED");
    expect((await colleague.trpc.auth.me.query()).user?.id).toBe(colleague.user.id);
    const back = await freshClient().auth.login.mutate({ email: founder.email, password: PASSWORD });
    expect(back.user.id).toBe(founder.user.id);
  });

  it("is refused to an API key with FORBIDDEN, ending nothing", async () => {
    const founder = await newTenant("key-everywhere");
    const { key } = await founder.trpc.apiKey.create.mutate({ name: "automation" });

    const error = await errorOf(makeClient({ apiKey: key }).auth.signOutEverywhere.mutate());

    expect(error.code).toBe("FORBIDDEN");
    expect((await founder.trpc.auth.me.query()).user?.id).toBe(founder.user.id);
  });
});
