import * as check from "./checks";
import { custom, table } from "./compose";
import { required, text, texts } from "./nodes";

/** One `GATE.oidc.<name>` provider (docs/oidc.md). */
export const PROVIDER = table(
  {
    issuer: required(
      custom({
        schema: { type: "string", format: "uri", description: "The provider's issuer; discovery is issuer + /.well-known/openid-configuration." },
        ts: "string",
        read: check.issuerUrl,
      }),
    ),
    client_id: required(
      custom({
        schema: { type: "string", minLength: 1, description: "The client id registered with the provider." },
        ts: "string",
        read: check.requiredText,
      }),
    ),
    scopes: texts({ doc: 'Scopes to ask for; must contain "openid".', fallback: ["openid", "email", "profile"] }),
    user_claim: text({ doc: 'The ID token claim that becomes the session\'s sub ("email" needs email_verified = true).', fallback: "sub" }),
    sub_prefix: text({
      doc: 'Put before the user_claim value to make the session\'s sub; default "<name>:" (a sub or user name is unique only at its provider), "" for user_claim = "email".',
    }),
    roles_claim: text({ doc: "A claim (string or list of strings; a dotted path) that becomes the session's roles." }),
    allowed_email_domains: texts({ doc: "Only users with a verified email in these domains may log in.", fallback: [] }),
    allowed_users: texts({ doc: "Only these values of user_claim may log in.", fallback: [] }),
  },
  { doc: "An OpenID Provider.", skip: true },
);
