// The dashboard's live panel (demo/origin.mjs renders #live and serves this file
// at /static/live.js, a public route). It opens a WebSocket to /live through the
// gate, shows the identity the origin saw on the handshake and every message,
// and, when the socket closes, who closed it and why: the gate ends a session's
// socket with 1008 "session ended". The page state is also kept in data-*
// attributes of #live (state, close-code, close-reason) for the browser test.
// Text from the socket only ever goes into textContent.
(() => {
  const panel = document.getElementById("live");
  if (!panel) return;
  const byId = (id) => document.getElementById(id);
  const log = byId("live-log");
  const MAX_LINES = 30;
  let socket;

  function setState(state, text) {
    panel.dataset.state = state;
    byId("live-status").textContent = text;
    byId("live-reconnect").hidden = state !== "closed";
  }

  function addLine(text) {
    const item = document.createElement("li");
    item.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
    log.prepend(item);
    while (log.children.length > MAX_LINES) log.lastElementChild.remove();
  }

  function setCell(id, value) {
    const cell = byId(id);
    cell.replaceChildren();
    const code = document.createElement(value === null ? "span" : "code");
    if (value === null) code.className = "muted";
    code.textContent = value ?? "(not sent)";
    cell.append(code);
  }

  function showIdentity(message) {
    setCell("live-user", message.user);
    setCell("live-roles", message.roles);
    setCell("live-session", message.session);
    const { assertion } = message;
    const text = assertion.verified ? `verified ✓ (sub ${assertion.sub})` : `not verified ✗ (${assertion.code}: ${assertion.message})`;
    setCell("live-assertion", text);
    byId("live-assertion").className = assertion.verified ? "ok" : "error";
  }

  function onMessage(event) {
    if (typeof event.data !== "string") return addLine("origin: a binary message");
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return addLine(`origin: ${event.data}`);
    }
    if (message.type === "identity") {
      showIdentity(message);
      addLine(`origin saw user ${message.user ?? "(none)"} on the handshake`);
    } else if (message.type === "tick") addLine(`tick ${message.n}`);
    else if (message.type === "echo") addLine(`echo: ${message.text}`);
    else addLine(`origin: ${event.data}`);
  }

  /** What a close means to the user. 1008 "session ended" is the gate's; a handshake the gate refused never opens. */
  function closeText(event, opened) {
    const code = event.code;
    if (!opened) return `the socket did not open: the gate refused the handshake (your session may have ended; reload the page) (${code})`;
    if (code === 1008) return `the gate closed this socket: ${event.reason || "policy violation"} (${code})`;
    if (code === 1006) return `the connection was lost (${code})`;
    return `the socket closed: ${event.reason || "no reason given"} (${code})`;
  }

  function connect() {
    const url = `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/live`;
    let opened = false;
    setState("connecting", `Connecting to ${url}…`);
    delete panel.dataset.closedAt;
    delete panel.dataset.closeCode;
    delete panel.dataset.closeReason;
    socket = new WebSocket(url);
    socket.addEventListener("open", () => {
      opened = true;
      setState("open", `open: ${url}`);
    });
    socket.addEventListener("message", onMessage);
    socket.addEventListener("close", (event) => {
      panel.dataset.closedAt = String(Date.now());
      panel.dataset.closeCode = String(event.code);
      panel.dataset.closeReason = event.reason;
      setState("closed", closeText(event, opened));
      addLine(`closed ${event.code} ${event.reason ? JSON.stringify(event.reason) : ""}`.trim());
    });
  }

  byId("live-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = byId("live-text");
    if (socket?.readyState !== WebSocket.OPEN || input.value === "") return;
    socket.send(input.value);
    addLine(`sent: ${input.value}`);
    input.value = "";
  });
  byId("live-reconnect").addEventListener("click", connect);
  connect();
})();
