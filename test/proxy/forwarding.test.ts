import { describe, expect, it } from "vitest";
import { T0, cookie, createTestGate, signLogin } from "../helpers/gate";

type Gate = Awaited<ReturnType<typeof createTestGate>>;

/** A gate with alice logged in, the origin's log emptied of the login itself. */
async function signedIn(roles = ["user"]) {
  const gate = await createTestGate();
  const token = await gate.login("alice", roles);
  gate.origin.received.splice(0);
  return { gate, token };
}

/** The headers the origin received for one request, by lower-case name. */
async function seenBy(gate: Gate, path: string, headers: Record<string, string>, init: RequestInit = {}) {
  const response = await gate.request(path, { ...init, headers });
  expect(response.status).toBe(200);
  expect(gate.origin.received).toHaveLength(1);
  return gate.origin.received.splice(0)[0];
}

const sidOf = (gate: Gate) => gate.events("session.created").at(-1)!.sid as string;
const gateHeaders = (headers: Record<string, string>) => Object.keys(headers).filter((name) => /^x[-_]gate[-_]/i.test(name));

describe("identity headers the client sends", () => {
  const spellings: Array<[string, Record<string, string>]> = [
    ["X-Gate-User", { "X-Gate-User": "mallory" }],
    ["x_gate_user (underscores)", { x_gate_user: "mallory" }],
    ["X-GATE-USER (upper case)", { "X-GATE-USER": "mallory" }],
    ["X_GATE_ROLES (upper case, underscores)", { X_GATE_ROLES: "admin" }],
    ["X-Gate-Assertion", { "X-Gate-Assertion": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJtYWxsb3J5In0." }],
    ["X-Gate-Session and X-Gate-Auth-Time", { "X-Gate-Session": "forged-sid", "X-Gate-Auth-Time": "9999999999" }],
    ["an invented x-gate-* header", { "X-Gate-Anything": "1" }],
  ];

  for (const [label, headers] of spellings) {
    it(`never reach the origin without a session: ${label}`, async () => {
      const gate = await createTestGate();
      const seen = await seenBy(gate, "/public/page", headers);
      expect(gateHeaders(seen.headers)).toEqual([]);
    });

    it(`are replaced by the session's own with a session: ${label}`, async () => {
      const { gate, token } = await signedIn();
      const seen = await seenBy(gate, "/dashboard", { ...headers, ...cookie(token) });
      expect(gateHeaders(seen.headers).sort()).toEqual(["x-gate-assertion", "x-gate-auth-time", "x-gate-roles", "x-gate-session", "x-gate-user"]);
      expect(seen.headers["x-gate-user"]).toBe("alice");
      expect(seen.headers["x-gate-roles"]).toBe("user");
      expect(seen.headers["x-gate-session"]).toBe(sidOf(gate));
      expect(seen.headers["x-gate-auth-time"]).toBe(String(T0 / 1_000));
    });
  }

  it("never reach the origin when x-gate-user is sent twice", async () => {
    const { gate, token } = await signedIn();
    const headers = new Headers(cookie(token));
    headers.append("x-gate-user", "mallory");
    headers.append("x-gate-user", "root");
    const response = await gate.request("/dashboard", { headers: Object.fromEntries(headers) });
    expect(response.status).toBe(200);
    expect(gate.origin.last().headers["x-gate-user"]).toBe("alice");
  });
});

describe("forwarding and hop-by-hop headers", () => {
  it("removes a header the client names in Connection, and Connection itself", async () => {
    const gate = await createTestGate();
    const seen = await seenBy(gate, "/public/page", { Connection: "close, X-Secret", "X-Secret": "hunter2", "X-Kept": "yes" });
    expect(seen.headers["x-secret"]).toBeUndefined();
    expect(seen.headers.connection).toBeUndefined();
    expect(seen.headers["x-kept"]).toBe("yes");
  });

  it("removes Keep-Alive, TE, Trailer, Upgrade and Proxy-Authorization", async () => {
    const gate = await createTestGate();
    const seen = await seenBy(gate, "/public/page", {
      "Keep-Alive": "timeout=5",
      TE: "trailers",
      Trailer: "X-Checksum",
      Upgrade: "h2c",
      "Proxy-Authorization": "Basic bWFsbG9yeTpzZWNyZXQ=",
      "Proxy-Connection": "keep-alive",
    });
    for (const name of ["keep-alive", "te", "trailer", "upgrade", "proxy-authorization", "proxy-connection"]) {
      expect(seen.headers[name], name).toBeUndefined();
    }
  });

  it("replaces X-Forwarded-For/Proto/Host with the connection's own and drops Forwarded and X-Real-IP", async () => {
    const gate = await createTestGate();
    const seen = await seenBy(gate, "/public/page", {
      "CF-Connecting-IP": "198.51.100.23",
      "X-Forwarded-For": "10.0.0.1",
      "X-Forwarded-Proto": "http",
      "X-Forwarded-Host": "evil.example",
      "X-Forwarded-Port": "8080",
      x_forwarded_for: "10.0.0.2",
      Forwarded: "for=10.0.0.1;proto=http;host=evil.example",
      "X-Real-IP": "10.0.0.3",
    });
    expect(seen.headers["x-forwarded-for"]).toBe("198.51.100.23");
    expect(seen.headers["x-forwarded-proto"]).toBe("https");
    expect(seen.headers["x-forwarded-host"]).toBe("gate.example");
    expect(seen.headers["x-forwarded-port"]).toBeUndefined();
    expect(seen.headers.x_forwarded_for).toBeUndefined();
    expect(seen.headers.forwarded).toBeUndefined();
    expect(seen.headers["x-real-ip"]).toBeUndefined();
  });

  it("gives every request a fresh X-Request-Id and replaces the client's", async () => {
    const gate = await createTestGate();
    const first = await seenBy(gate, "/public/page", { "X-Request-Id": "client-chosen" });
    const second = await seenBy(gate, "/public/page", { "X-Request-Id": "client-chosen" });
    expect(first.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(second.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.headers["x-request-id"]).not.toBe(second.headers["x-request-id"]);
  });

  it("sends no identity header on a public route without a session", async () => {
    const gate = await createTestGate();
    const seen = await seenBy(gate, "/public/page", {});
    expect(gateHeaders(seen.headers)).toEqual([]);
  });

  it("sends the exact identity of a session on a public route too", async () => {
    const { gate, token } = await signedIn(["user", "admin"]);
    const seen = await seenBy(gate, "/public/page", cookie(token));
    expect(seen.headers["x-gate-user"]).toBe("alice");
    expect(seen.headers["x-gate-session"]).toBe(sidOf(gate));
    expect(seen.headers["x-gate-roles"]).toBe("user,admin");
    expect(seen.headers["x-gate-auth-time"]).toBe(String(T0 / 1_000));
  });

  it("sends an empty X-Gate-Roles for a session without roles", async () => {
    const { gate, token } = await signedIn([]);
    const seen = await seenBy(gate, "/dashboard", cookie(token));
    expect(seen.headers["x-gate-user"]).toBe("alice");
    expect(seen.headers["x-gate-roles"]).toBe("");
  });
});

describe("cookies and credentials", () => {
  it("removes the session cookie and passes the others in order", async () => {
    const { gate, token } = await signedIn();
    const seen = await seenBy(gate, "/dashboard", { Cookie: `a=1; __Host-session=${token}; b=2` });
    expect(seen.headers["x-gate-user"]).toBe("alice");
    expect(seen.headers.cookie).toBe("a=1; b=2");
  });

  it("sends no Cookie header when the session cookie was the only one", async () => {
    const { gate, token } = await signedIn();
    const seen = await seenBy(gate, "/dashboard", cookie(token));
    expect(seen.headers.cookie).toBeUndefined();
  });

  it("passes look-alike cookie names as ordinary cookies", async () => {
    const { gate, token } = await signedIn();
    const others = "__HOST-session=x; __host-session=y; __Host-session2=z; Host-session=w; __Host-Session=v";
    const seen = await seenBy(gate, "/dashboard", { Cookie: `${others}; __Host-session=${token}` });
    expect(seen.headers["x-gate-user"]).toBe("alice");
    expect(seen.headers.cookie).toBe(others);
  });

  it("never hands the origin the token even in split, comma-joined Cookie headers", async () => {
    const { gate, token } = await signedIn();
    // Two Cookie fields are joined with ", " by the platform (Fetch's header combining rule).
    const headers = new Headers();
    headers.append("Cookie", "a=1");
    headers.append("Cookie", `__Host-session=${token}`);
    const response = await gate.request("/public/page", { headers: { Cookie: headers.get("cookie")! } });
    expect(response.status).toBe(200);
    const seen = gate.origin.last();
    expect(JSON.stringify(seen.headers)).not.toContain(token);
    expect(seen.headers.cookie).toBe("a=1");
  });

  it("removes an Authorization header carrying the gate's token", async () => {
    const { gate, token } = await signedIn();
    const seen = await seenBy(gate, "/dashboard", { Authorization: `Bearer ${token}` });
    expect(seen.headers["x-gate-user"]).toBe("alice");
    expect(seen.headers.authorization).toBeUndefined();
  });

  it("passes Authorization: Basic to the origin", async () => {
    const { gate, token } = await signedIn();
    const seen = await seenBy(gate, "/dashboard", { ...cookie(token), Authorization: "Basic YWxpY2U6c2VjcmV0" });
    expect(seen.headers["x-gate-user"]).toBe("alice");
    expect(seen.headers.authorization).toBe("Basic YWxpY2U6c2VjcmV0");
  });

  it("passes a bearer that is not a gate token (a JWT) and still accepts the session cookie", async () => {
    const { gate, token } = await signedIn();
    const jwt = await signLogin({ sub: "api-client" }, T0 / 1_000, "some-other-services-key-0123456789abcdef");
    const seen = await seenBy(gate, "/dashboard", { ...cookie(token), Authorization: `Bearer ${jwt}` });
    expect(seen.headers["x-gate-user"]).toBe("alice");
    expect(seen.headers.authorization).toBe(`Bearer ${jwt}`);
  });

  it("passes a non-gate bearer on a public route without logging a refused token", async () => {
    const gate = await createTestGate();
    const seen = await seenBy(gate, "/public/page", { Authorization: "Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl" });
    expect(seen.headers.authorization).toBe("Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl");
    expect(gateHeaders(seen.headers)).toEqual([]);
    expect(gate.events("auth.denied")).toEqual([]);
  });
});

describe("the request body and URL", () => {
  it("forwards a POSTed JSON body intact", async () => {
    const { gate, token } = await signedIn();
    const body = JSON.stringify({ name: "Zoë", list: [1, 2, 3], nested: { ok: true } });
    const seen = await seenBy(
      gate,
      "/api/items",
      { ...cookie(token), "Content-Type": "application/json", "Sec-Fetch-Site": "same-origin" },
      { method: "POST", body },
    );
    expect(seen.method).toBe("POST");
    expect(seen.body).toBe(body);
    expect(seen.headers["content-type"]).toBe("application/json");
  });

  it("forwards a 1 MiB body intact", async () => {
    const gate = await createTestGate();
    const body = "0123456789abcdef".repeat(65_536);
    const seen = await seenBy(gate, "/webhooks/upload", { "Content-Type": "application/octet-stream" }, { method: "PUT", body });
    expect(seen.body.length).toBe(1_048_576);
    expect(seen.body).toBe(body);
  });

  it("streams a body that arrives in chunks", async () => {
    const gate = await createTestGate();
    const chunks = ["first,", "second,", "third"];
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(next));
      },
    });
    const seen = await seenBy(gate, "/webhooks/stream", {}, { method: "POST", body: stream });
    expect(seen.body).toBe("first,second,third");
  });

  it("forwards the query string unchanged", async () => {
    const gate = await createTestGate();
    const query = "?b=2&a=1&a=%2F%20x&q=caf%C3%A9&flag&empty=&next=%2Fdashboard%3Fa%3D1";
    const seen = await seenBy(gate, `/public/search${query}`, {});
    expect(new URL(seen.url).search).toBe(query);
    expect(seen.path).toBe("/public/search");
  });
});

describe("the origin's reply", () => {
  it("passes the origin's redirect and every one of its Set-Cookie headers unchanged", async () => {
    const { gate, token } = await signedIn();
    gate.origin.reply(
      () =>
        new Response(null, {
          status: 302,
          headers: [
            ["Location", "https://elsewhere.example/next?x=1"],
            ["Set-Cookie", "theme=dark; Path=/; Max-Age=3600"],
            ["Set-Cookie", "csrf=abc123; Path=/; Secure; SameSite=Strict"],
          ],
        }),
    );
    const response = await gate.request("/dashboard", { headers: cookie(token) });
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("https://elsewhere.example/next?x=1");
    expect(response.headers.getSetCookie()).toEqual(["theme=dark; Path=/; Max-Age=3600", "csrf=abc123; Path=/; Secure; SameSite=Strict"]);
  });

  it("never lets the origin's x-gate-*, Server or X-Powered-By headers reach the client", async () => {
    const { gate, token } = await signedIn();
    gate.origin.reply(
      () =>
        new Response("ok", {
          headers: {
            "X-Gate-Login": "not-a-jwt",
            "X-Gate-Logout": "nonsense",
            "X-Gate-Debug": "internal",
            X_Gate_Trace: "internal",
            Server: "Apache/2.4.1",
            "X-Powered-By": "PHP/5.3",
            "X-Kept": "yes",
          },
        }),
    );
    const response = await gate.request("/dashboard", { headers: cookie(token) });
    expect(response.status).toBe(200);
    const names = [...response.headers.keys()];
    expect(names.filter((name) => /^x[-_]gate[-_]/i.test(name))).toEqual([]);
    expect(response.headers.get("server")).toBeNull();
    expect(response.headers.get("x-powered-by")).toBeNull();
    expect(response.headers.get("x-kept")).toBe("yes");
  });

  it("never lets a valid X-Gate-Login header reach the client", async () => {
    const gate = await createTestGate();
    const jwt = await signLogin({ sub: "alice" }, T0 / 1_000);
    gate.origin.reply(() => new Response("welcome", { headers: { "X-Gate-Login": jwt } }));
    const response = await gate.request("/login", { method: "POST", headers: { "Sec-Fetch-Site": "same-origin" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-gate-login")).toBeNull();
    expect(await response.text()).toBe("welcome");
  });

  it("answers 502 JSON when the origin cannot be reached", async () => {
    const { gate, token } = await signedIn();
    gate.origin.reply(() => {
      throw new TypeError("Network connection lost.");
    });
    const response = await gate.request("/dashboard", { headers: cookie(token) });
    expect(response.status).toBe(502);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    const body = await response.text();
    expect(JSON.parse(body)).toEqual({ error: "bad_gateway" });
    expect(body).not.toContain("Network");
    expect(gate.events("origin.error")).toHaveLength(1);
  });
});
