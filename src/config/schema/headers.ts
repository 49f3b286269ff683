import { parseSecurityHeaders } from "../headers";
import { custom } from "./compose";

/** `GATE.security_headers`: per header, a value, false (off), or { value, origin_wins } (src/config/headers.ts reads it). */
export const HEADERS = custom({
  schema: {
    description: "Security headers: a value, false (off), or { value, origin_wins }.",
    type: "object",
    additionalProperties: {
      anyOf: [
        { type: "string" },
        { const: false },
        {
          type: "object",
          additionalProperties: false,
          properties: { value: { anyOf: [{ type: "string" }, { const: false }] }, origin_wins: { type: "boolean" } },
        },
      ],
    },
  },
  ts: "Record<string, string | false | { value?: string | false; origin_wins?: boolean }>",
  read: (problems, _key, value) => parseSecurityHeaders(problems, value),
});
