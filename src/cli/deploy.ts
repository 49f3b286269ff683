/**
 * `--deploy`: what is fine under `wrangler dev` but wrong in production
 * (contract §8, §14), one problem per hazard.
 */
import { show } from "../config/problems";
import { localHost } from "./addresses";
import type { Bindings } from "./bindings";
import type { Entry } from "./entry";
import type { WorkerFields } from "./environment";
import { type Problem, problem } from "./problem";
import type { Secrets } from "./secrets";
import { isTomlTable } from "./toml";

/** Everything the hazards are read from. */
export interface DeployContext {
  worker: WorkerFields;
  bindings: Bindings;
  entry: Entry;
  secrets: Secrets;
  storeKind: string;
}

const KV_ID = /^[0-9a-f]{32}$/i;

/** Every hazard of deploying this configuration. */
export function deployHazards(context: DeployContext): Problem[] {
  return [
    ...originHazards(context),
    ...kvHazards(context.bindings),
    ...gateHazards(context),
    ...secretHazards(context),
    ...cronHazards(context.worker),
  ];
}

/** A URL on a local host, or on plain http: one problem for each. */
function urlHazards(key: string, value: unknown, at: string, why: { local: string; http: string }): Problem[] {
  if (typeof value !== "string" || !URL.canParse(value)) return []; // the parser says what is wrong with it
  const url = new URL(value);
  const problems: Problem[] = [];
  const local = localHost(url.hostname);
  if (local) problems.push(problem(`${key}: ${show(value)} is ${local}: ${why.local}`, at));
  if (url.protocol === "http:") problems.push(problem(`${key}: ${show(value)} is plain http: ${why.http}`, at));
  return problems;
}

function originHazards({ bindings, entry, worker }: DeployContext): Problem[] {
  // With a service binding ORIGIN, or as middleware, ORIGIN_URL is not used.
  if (entry.mode === "middleware" || bindings.services.includes("ORIGIN")) return [];
  return urlHazards("ORIGIN_URL", bindings.vars.ORIGIN_URL, `${worker.where.vars}.ORIGIN_URL`, {
    local: "the deployed gate runs on Cloudflare and cannot reach it; set your origin's public URL, or a service binding ORIGIN",
    http: "users' requests and the signed identity would cross the internet unencrypted; use https",
  });
}

function kvHazards({ kv }: Bindings): Problem[] {
  // Without an id, wrangler deploy creates the namespace itself.
  return kv.flatMap(({ binding, id, where }) => {
    if (id === undefined || (typeof id === "string" && KV_ID.test(id) && !/^0+$/.test(id))) return [];
    const what = typeof id === "string" && /^0+$/.test(id) ? "a placeholder" : "not a KV namespace id (32 hex characters)";
    const advice = `create the namespace (npx wrangler kv namespace create ${binding}) and put the id it prints here`;
    return [problem(`${where}.id: ${show(id)} is ${what}: ${advice}`, `${where}.id`, where)];
  });
}

function gateHazards({ bindings, worker }: DeployContext): Problem[] {
  const gate = gateTable(bindings.vars.GATE);
  const at = (key: string) => [`${worker.where.vars}.GATE.${key}`, `${worker.where.vars}.GATE`];
  const problems: Problem[] = [];
  if (gate.public_origin === undefined) {
    const text = `GATE.public_origin: not set: the gate would take its own origin from each request's Host (CSRF, redirects, X-Forwarded-Host) and answer on any host that reaches it; set it to the gate's origin, such as "https://app.example.com"`;
    problems.push(problem(text, ...at("public_origin")));
  }
  problems.push(
    ...urlHazards("GATE.public_origin", gate.public_origin, at("public_origin")[0], {
      local: "no user reaches the deployed gate there; set the gate's public origin",
      http: "browsers never send the gate's Secure session cookie over it; use https",
    }),
  );
  if (gate.issuer === undefined || gate.issuer === "") {
    const text = `GATE.issuer: left to default (public_origin, else each request's own origin): set it to the iss your origin's verifyAssertion expects, such as "https://app.example.com"`;
    problems.push(problem(text, ...at("issuer")));
  }
  const trusted = Array.isArray(gate.trusted_origins) ? gate.trusted_origins : [];
  trusted.forEach((origin, index) => {
    const url = typeof origin === "string" && URL.canParse(origin) ? new URL(origin) : undefined;
    const kind = url && (localHost(url.hostname) ?? (url.protocol === "http:" ? "plain http" : undefined));
    if (!kind) return;
    const text = `GATE.trusted_origins: ${show(origin)} is a development origin (${kind}): any page served there could send unsafe requests with your users' sessions; remove it`;
    problems.push(problem(text, `${at("trusted_origins")[0]}[${index}]`, ...at("trusted_origins")));
  });
  return problems;
}

/** `GATE` as the parser reads it: a table, or its JSON text. */
function gateTable(value: unknown): Record<string, unknown> {
  let gate = value;
  if (typeof gate === "string") {
    try {
      gate = JSON.parse(gate);
    } catch {} // the parser reports it
  }
  return isTomlTable(gate) ? gate : {};
}

/** The secrets a deploy needs, for the store in use; the Upstash URL may be a plain var. */
function neededSecrets({ storeKind, bindings }: DeployContext): string[] {
  const names = ["GATE_SECRET", "GATE_ORIGIN_SECRET"];
  if (storeKind === "redis")
    names.push(...(bindings.vars.UPSTASH_REDIS_REST_URL === undefined ? ["UPSTASH_REDIS_REST_URL"] : []), "UPSTASH_REDIS_REST_TOKEN");
  return names;
}

function secretHazards(context: DeployContext): Problem[] {
  const { secrets, worker, bindings } = context;
  if (secrets.source !== "process.env") return undeclaredSecrets(context);
  const problems: Problem[] = [];
  const { GATE_SECRET: gate, GATE_ORIGIN_SECRET: origin } = secrets.values;
  if (gate && gate === origin) {
    problems.push(problem("GATE_ORIGIN_SECRET: is the same as GATE_SECRET: the origin would hold the gate's master key; generate a separate one"));
  }
  if (context.storeKind !== "redis") return problems;
  const fromVars = secrets.values.UPSTASH_REDIS_REST_URL === undefined;
  const url = fromVars ? bindings.vars.UPSTASH_REDIS_REST_URL : secrets.values.UPSTASH_REDIS_REST_URL;
  return problems.concat(
    urlHazards("UPSTASH_REDIS_REST_URL", url, fromVars ? `${worker.where.vars}.UPSTASH_REDIS_REST_URL` : "", {
      local: "the deployed gate cannot reach it; use the database's URL from the Upstash console",
      http: "the REST token would cross the internet unencrypted; use the https URL",
    }),
  );
}

/** Without --secrets-from-env, a secret is known to be set only when wrangler.toml requires it (wrangler deploy then refuses without it). */
function undeclaredSecrets(context: DeployContext): Problem[] {
  const { fields, where } = context.worker;
  const declared = isTomlTable(fields.secrets) && Array.isArray(fields.secrets.required) ? fields.secrets.required : [];
  const missing = neededSecrets(context).filter((name) => !declared.includes(name));
  if (missing.length === 0) return [];
  const list = neededSecrets(context)
    .map((name) => `"${name}"`)
    .join(", ");
  const text =
    `${where.secrets}: ${missing.join(", ")} not known to be set: --deploy does not read .dev.vars (its values are for development); ` +
    `check the production values with --secrets-from-env, or declare them in wrangler.toml ([secrets] required = [${list}]) so that wrangler deploy refuses to deploy while one is unset`;
  return [problem(text, where.secrets)];
}

function cronHazards({ fields, where }: WorkerFields): Problem[] {
  const crons = isTomlTable(fields.triggers) && Array.isArray(fields.triggers.crons) ? fields.triggers.crons : [];
  if (crons.length > 0) return [];
  const text = `${where.triggers}: no cron: the gate would sign every assertion with the key it creates on first use and never rotate it; add [triggers] crons = ["0 * * * *"]`;
  return [problem(text, where.triggers)];
}
