// A real WebSocket origin for the proxy tests: Node's `ws` on 127.0.0.1, a free port.
//
// WebSocket endpoints (the query's `id` names the connection in the log below):
//   /echo          first sends {"type":"handshake","url","headers"} (the upgrade request's headers as
//                  received), then echoes every message, text as text and binary as binary
//   /subprotocol   accepts the first offered subprotocol, and puts headers on its 101 that a proxy
//                  must not copy to its client (X-Gate-Logout, Set-Cookie, Server); then echoes
//   /close         closes with ?code= and ?reason= right after open
//   /reject        answers the upgrade with 403 (nothing upgraded)
//   /count         counts messages without answering them; the text message "report" is answered
//                  with {"count": n}, n being the messages before it
//   /drop          drops the TCP connection without a close frame on the first message
// HTTP: GET /log?id=X → {"connections", "messages", "closes": [{code, reason}]} for connection X,
// so a test in workerd can see what reached the origin. Anything else is 426 or 404.
import http from "node:http";
import { WebSocketServer } from "ws";

const PATHS = new Set(["/echo", "/subprotocol", "/close", "/reject", "/count", "/drop"]);

/** The log entry of connection `id`, created on first use. */
function entry(log, id) {
  let found = log.get(id);
  if (!found) log.set(id, (found = { connections: 0, messages: 0, closes: [] }));
  return found;
}

/** Plain HTTP: the log, or a refusal. */
function answerHttp(log, req, res) {
  const url = new URL(req.url, "http://origin");
  if (url.pathname === "/log") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(entry(log, url.searchParams.get("id") ?? "")));
    return;
  }
  res.writeHead(PATHS.has(url.pathname) ? 426 : 404, { "content-type": "text/plain" });
  res.end(PATHS.has(url.pathname) ? "websocket only\n" : "not found\n");
}

/** Per-endpoint behaviour once a connection is open. */
function serve(ws, req, url, seen) {
  const send = (data, isBinary) => ws.send(data, { binary: isBinary });
  switch (url.pathname) {
    case "/echo":
      ws.send(JSON.stringify({ type: "handshake", url: req.url, headers: req.headers }));
      return ws.on("message", send);
    case "/subprotocol":
      return ws.on("message", send);
    case "/close":
      return ws.close(Number(url.searchParams.get("code") ?? 1000), url.searchParams.get("reason") ?? "");
    case "/count":
      return ws.on("message", (data, isBinary) => {
        if (!isBinary && data.toString() === "report") ws.send(JSON.stringify({ count: seen.messages - 1 }));
      });
    case "/drop":
      return ws.on("message", () => ws.terminate());
  }
}

/** Starts the origin; `close()` ends every connection and stops listening. */
export async function startWsOrigin({ port = 0 } = {}) {
  const log = new Map();
  const server = http.createServer((req, res) => answerHttp(log, req, res));
  const wss = new WebSocketServer({
    server,
    perMessageDeflate: true,
    verifyClient: ({ req }, done) => {
      const { pathname } = new URL(req.url, "http://origin");
      if (pathname === "/reject") return done(false, 403, "Forbidden", { "X-Origin": "refused" });
      done(PATHS.has(pathname), 404, "Not Found");
    },
    handleProtocols: (protocols, req) => (req.url.startsWith("/subprotocol") ? ([...protocols][0] ?? false) : false),
  });
  wss.on("headers", (headers, req) => {
    if (req.url.startsWith("/subprotocol")) headers.push("X-Gate-Logout: user", "Set-Cookie: origin=1; Path=/", "Server: origin/1.0");
  });
  wss.on("connection", (ws, req) => {
    const url = new URL(req.url, "http://origin");
    const seen = entry(log, url.searchParams.get("id") ?? "");
    seen.connections += 1;
    ws.on("message", () => (seen.messages += 1));
    ws.on("close", (code, reason) => seen.closes.push({ code, reason: reason.toString() }));
    ws.on("error", () => {}); // a dropped peer; the close event records it
    serve(ws, req, url, seen);
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const address = server.address();
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.close(() => resolve());
      }),
  };
}
