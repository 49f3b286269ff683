import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import path from "node:path";
import { defineConfig } from "vitest/config";

/** Development-only secrets for the tests; real ones come from `wrangler secret put`. */
export const TEST_SECRETS = {
  GATE_SECRET: "test-gate-secret-0123456789abcdef0123456789abcdef",
  GATE_ORIGIN_SECRET: "test-origin-secret-0123456789abcdef0123456789abcd",
  GATE_ADMIN_TOKEN: "test-admin-token-0123456789abcdef0123456789abcdef",
};

export default defineConfig({
  // Tests and examples import the package by its name, as a user's Worker does.
  resolve: { alias: [{ find: /^gatehouse-edge$/, replacement: path.resolve("src/index.ts") }] },
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: TEST_SECRETS,
        // Small limits for rate limiting tests, on top of wrangler.toml's bindings.
        ratelimits: {
          RATE_LIMIT_TIGHT: { simple: { limit: 3, period: 10 } },
          RATE_LIMIT_TIGHT_LOGIN: { simple: { limit: 2, period: 60 } },
        },
      },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    // A throwaway redis-server behind an Upstash-compatible REST bridge (test/redis/).
    globalSetup: [
      "./test/redis/global-setup.ts",
      // A real Node `ws` WebSocket origin for the proxy tests (test/ws/).
      "./test/ws/global-setup.ts",
      // Real OpenID Providers (oidc-provider) for the OIDC login tests (test/oidc/).
      "./test/oidc/global-setup.ts",
    ],
  },
});
