// Vitest globalSetup (runs in Node, not in workerd): real OpenID Providers
// (oidc-provider, test/oidc/provider.mjs) on loopback for the gate's OIDC
// tests. Faults, tampers and discovery overrides are per provider and seen by
// every test file using it, so each concern gets a provider of its own:
// - `oidcIssuer`: the shared one, for real logins; tests never break it.
// - `oidcTamperIssuer`: ID tokens re-signed with changed claims (one file: id-token.test.ts).
// - `oidcOutageIssuer`: faults on discovery, JWKS, token endpoint (one file: outage.test.ts).
import type { TestProject } from "vitest/node";
import { type TestProvider, startProvider } from "./provider.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    oidcIssuer: string;
    oidcClientSecret: string;
    oidcTamperIssuer: string;
    oidcTamperClientSecret: string;
    oidcOutageIssuer: string;
    oidcOutageClientSecret: string;
  }
}

/**
 * The gate of the tests is https://gate.example (https://app.example with a
 * public_origin), with providers named corp (confidential client) and pub (public client).
 */
const GATE = "https://gate.example";
const OPTIONS = {
  redirectUris: [`${GATE}/_gate/oidc/corp/callback`, `${GATE}/_gate/oidc/pub/callback`, "https://app.example/_gate/oidc/corp/callback"],
  postLogoutRedirectUris: [`${GATE}/login`],
};

export default async function setup(project: TestProject) {
  const started: TestProvider[] = [];
  try {
    for (let i = 0; i < 3; i++) started.push(await startProvider(OPTIONS));
  } catch (error) {
    await Promise.all(started.map((provider) => provider.close()));
    throw error;
  }
  const [shared, tamper, outage] = started;
  project.provide("oidcIssuer", shared.issuer);
  project.provide("oidcClientSecret", shared.clients.confidential.clientSecret);
  project.provide("oidcTamperIssuer", tamper.issuer);
  project.provide("oidcTamperClientSecret", tamper.clients.confidential.clientSecret);
  project.provide("oidcOutageIssuer", outage.issuer);
  project.provide("oidcOutageClientSecret", outage.clients.confidential.clientSecret);
  return async () => {
    await Promise.all(started.map((provider) => provider.close()));
  };
}
