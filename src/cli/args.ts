/** The command line of `gatehouse-edge`: its commands, options and usage texts. */
import { parseArgs } from "node:util";
import type { CheckOptions } from "./check";

const CHECK_CONFIG = "gatehouse-edge check-config";

/** `gatehouse-edge` alone, or with --help. */
export const USAGE = `usage: gatehouse-edge <command> [options]

commands:
  check-config   check wrangler.toml and its secrets as the deployed gate would read them

gatehouse-edge <command> --help shows a command's options; --version the package's version.`;

/** `gatehouse-edge check-config --help`. */
export const CHECK_CONFIG_USAGE = `usage: gatehouse-edge check-config [options]
       (in the gatehouse-edge repository: npm run check-config -- [options])

Runs the gate's own configuration parser on wrangler.toml, with the secrets,
and lists every problem at once, each with its line.

  -c, --config <path>  wrangler.toml to check (default ./wrangler.toml)
  --env <name>         check [env.<name>] as \`wrangler deploy --env <name>\` would see it
  --deploy             also refuse what would be wrong in production: ORIGIN_URL on
                       localhost, a private address or plain http:, a placeholder KV id,
                       a secret not known to be set, GATE.issuer left to default,
                       GATE.public_origin not set, development trusted_origins, no cron.
                       .dev.vars is not read: pass --secrets-from-env, or list the secrets
                       in wrangler.toml ([secrets] required = [...])
  --dev-vars <path>    read secrets from this file (default: .dev.vars next to the config,
                       .dev.vars.<name> first with --env, then .env files, as wrangler dev does)
  --secrets-from-env   read the secrets from the environment instead (CI): GATE_SECRET,
                       GATE_ORIGIN_SECRET, GATE_ADMIN_TOKEN, UPSTASH_REDIS_REST_URL,
                       UPSTASH_REDIS_REST_TOKEN, GATE_OIDC_<NAME>_CLIENT_SECRET
  --no-secrets         do not check secrets (in CI they live in Cloudflare, not in files);
                       without it (or one of the two above), missing secrets are problems
  -h, --help           this text

Exit status: 0 valid, 1 problems (or an unreadable config), 2 bad arguments.`;

/** What the command line asks for. */
export type Command = { kind: "help"; text: string } | { kind: "version" } | { kind: "check-config"; options: CheckOptions };

/** A command line that cannot be run: exit status 2, with the usage. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string,
    /** Who says it: `gatehouse-edge`, or `gatehouse-edge check-config`. */
    readonly command = "gatehouse-edge",
  ) {
    super(message);
  }
}

/** Reads `argv` (without node and the script); throws {@link UsageError}. */
export function readCommand(argv: string[]): Command {
  const [name, ...rest] = argv;
  if (name === "-h" || name === "--help") return { kind: "help", text: USAGE };
  if (name === "-v" || name === "--version") return { kind: "version" };
  if (name === undefined) throw new UsageError("no command given", USAGE);
  if (name !== "check-config") throw new UsageError(`unknown command ${JSON.stringify(name)}`, USAGE);
  return readCheckConfig(rest);
}

function readCheckConfig(args: string[]): Command {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        config: { type: "string", short: "c" },
        env: { type: "string" },
        deploy: { type: "boolean" },
        "dev-vars": { type: "string" },
        "secrets-from-env": { type: "boolean" },
        "no-secrets": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message, CHECK_CONFIG_USAGE, CHECK_CONFIG);
  }
  if (values.help) return { kind: "help", text: CHECK_CONFIG_USAGE };
  const options = {
    config: values.config as string | undefined,
    env: values.env as string | undefined,
    deploy: values.deploy as boolean | undefined,
    devVars: values["dev-vars"] as string | undefined,
    secretsFromEnv: values["secrets-from-env"] as boolean | undefined,
    noSecrets: values["no-secrets"] as boolean | undefined,
  };
  const wrong = conflict(values);
  if (wrong) throw new UsageError(wrong, CHECK_CONFIG_USAGE, CHECK_CONFIG);
  return { kind: "check-config", options };
}

function conflict(values: Record<string, unknown>): string | undefined {
  const sources = ["dev-vars", "secrets-from-env", "no-secrets"].filter((name) => values[name] !== undefined);
  if (sources.length > 1) return `--${sources.join(" and --")} cannot be combined`;
  if (values.env === "" || values.config === "") return `--${values.env === "" ? "env" : "config"} needs a value`;
  if (values.deploy && values["dev-vars"] !== undefined)
    return "--deploy does not read secrets from files (.dev.vars holds development values): use --secrets-from-env";
  if (values.deploy && values["no-secrets"]) {
    return "--deploy must know the secrets are set: use --secrets-from-env, or list them in wrangler.toml ([secrets] required = [...]) and drop --no-secrets";
  }
  return undefined;
}
