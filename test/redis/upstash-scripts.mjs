// Upstash's Lua dialect on plain Redis. Upstash accepts a script flag that
// Redis does not know: `#!lua flags=allow-key-locking` (lock only the keys in
// KEYS; @upstash/ratelimit 2.x puts it on every script). Redis answers
// "ERR Unexpected flag in script shebang", so the bridge strips the flag before
// EVAL / SCRIPT LOAD and remembers which SHA-1 the client knows the script by
// (the hash of the text it sent) and which one Redis cached (the hash of the
// stripped text), so EVALSHA with the client's hash keeps working.
import { createHash } from "node:crypto";

/** Flags Upstash accepts and Redis rejects; they only tune Upstash's locking, so dropping them changes no result. */
const UPSTASH_ONLY_FLAGS = new Set(["allow-key-locking"]);
const SHEBANG = /^#!lua([^\n]*)/;

const sha1 = (text) => createHash("sha1").update(text, "utf8").digest("hex");

/** The script without Upstash-only shebang flags, or `undefined` when it has none. */
export function stripUpstashFlags(script) {
  const match = SHEBANG.exec(script);
  if (!match) return undefined;
  const options = match[1].trim().split(/\s+/).filter(Boolean);
  let changed = false;
  const kept = options.map((option) => {
    if (!option.startsWith("flags=")) return option;
    const flags = option.slice("flags=".length).split(",").filter(Boolean);
    const remaining = flags.filter((flag) => !UPSTASH_ONLY_FLAGS.has(flag));
    if (remaining.length === flags.length) return option;
    changed = true;
    return remaining.length > 0 ? `flags=${remaining.join(",")}` : undefined;
  });
  if (!changed) return undefined;
  const line = ["#!lua", ...kept.filter(Boolean)].join(" ");
  return line + script.slice(match[0].length);
}

/**
 * Rewrites script commands for Redis. `rewrite(args)` returns
 * `{ args, reply }`: the arguments to send, and a function that maps Redis's
 * reply back to what Upstash would answer (SCRIPT LOAD returns the client's
 * hash, not Redis's).
 */
export function createScriptDialect() {
  /** Client's SHA-1 (of the text it sent) → SHA-1 Redis cached (of the stripped text). */
  const aliases = new Map();
  const same = (reply) => reply;

  function strip(script) {
    const stripped = stripUpstashFlags(script);
    if (stripped === undefined) return { script, sha: undefined };
    const sha = sha1(script);
    aliases.set(sha, sha1(stripped));
    return { script: stripped, sha };
  }
  const alias = (sha) => aliases.get(String(sha).toLowerCase()) ?? sha;

  return {
    rewrite(args) {
      const name = args[0].toLowerCase();
      if ((name === "eval" || name === "eval_ro") && args.length > 1) {
        return { args: [args[0], strip(args[1]).script, ...args.slice(2)], reply: same };
      }
      if ((name === "evalsha" || name === "evalsha_ro") && args.length > 1) {
        return { args: [args[0], alias(args[1]), ...args.slice(2)], reply: same };
      }
      const sub = args[1]?.toLowerCase();
      if (name === "script" && sub === "load" && args.length === 3) {
        const { script, sha } = strip(args[2]);
        return { args: [args[0], args[1], script], reply: (reply) => (sha && Buffer.isBuffer(reply) ? Buffer.from(sha) : reply) };
      }
      if (name === "script" && sub === "exists") {
        return { args: [args[0], args[1], ...args.slice(2).map(alias)], reply: same };
      }
      return { args, reply: same };
    },
  };
}
