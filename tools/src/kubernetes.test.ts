import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { DEFAULT_SHUTDOWN_TIMEOUT_MS } from "@nexus/core";
import { beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";

/**
 * Renders every overlay of deploy/kubernetes with `kubectl kustomize` and checks what a cluster
 * would get: probes, resources and shutdown on every Deployment, only the gateway exposed, the
 * network policies matching the calls the code makes, autoscalers and budgets on real
 * Deployments, a migrate Job per database while no Deployment migrates, and no reference to a
 * Secret or ConfigMap that nobody creates.
 */

const root = fileURLToPath(new URL("../../", import.meta.url));
const overlays = ["dev", "production"] as const;
const subgraphs = ["users", "catalog", "orders", "inventory", "insights", "notifications"] as const;
const services = [...subgraphs, "gateway"] as const;

interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}
interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string };
  };
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface Volume {
  name: string;
  configMap?: { name: string };
  secret?: { secretName: string };
}
interface PodSpec {
  terminationGracePeriodSeconds?: number;
  restartPolicy?: string;
  containers: Container[];
  volumes?: Volume[];
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  data?: Record<string, string>;
  spec?: {
    replicas?: number;
    selector?: Selector | Record<string, string>;
    template?: {
      metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
      spec: PodSpec;
    };
    type?: string;
    ports?: { name?: string; port: number; targetPort?: string | number }[];
    rules?: {
      host?: string;
      http?: {
        paths: { backend: { service?: { name: string; port: { name?: string; number?: number } } } }[];
      };
    }[];
    defaultBackend?: { service?: { name: string } };
    tls?: { secretName?: string }[];
    podSelector?: Selector;
    policyTypes?: string[];
    ingress?: { from?: { podSelector?: Selector; namespaceSelector?: Selector; ipBlock?: unknown }[] }[];
    scaleTargetRef?: { kind: string; name: string };
    minReplicas?: number;
    maxReplicas?: number;
    backoffLimit?: number;
    ttlSecondsAfterFinished?: number;
  };
}

const run = promisify(execFile);

async function render(overlay: string): Promise<K8sObject[]> {
  const { stdout } = await run(
    "kubectl",
    [
      "kustomize",
      "--load-restrictor",
      "LoadRestrictionsNone",
      join(root, "deploy/kubernetes/overlays", overlay),
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return parseAllDocuments(stdout).map((document) => document.toJS() as K8sObject);
}

function matches(selector: Selector, labels: Record<string, string>): boolean {
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  const byExpression = (selector.matchExpressions ?? []).every((expression) => {
    if (expression.operator !== "In") throw new Error(`unexpected selector operator ${expression.operator}`);
    const value = labels[expression.key];
    return value !== undefined && (expression.values ?? []).includes(value);
  });
  return byLabel && byExpression;
}

/** Who calls whom, read from the code: every service verifies tokens with users' JWKS, and a subgraph's `<NAME>_URL` setting is a call to that subgraph. */
function callsFromCode(): Map<string, Set<string>> {
  const callers = new Map<string, Set<string>>(subgraphs.map((name) => [name, new Set(["gateway"])]));
  expect(readFileSync(join(root, "packages/core/src/service-config.ts"), "utf8")).toContain('"JWKS_URL"');
  for (const caller of subgraphs) {
    const config = readFileSync(join(root, "subgraphs", caller, "src/config.ts"), "utf8");
    for (const callee of subgraphs) {
      const calls = callee === "users" || config.includes(`"${callee.toUpperCase()}_URL"`);
      if (calls && callee !== caller) callers.get(callee)?.add(caller);
    }
  }
  return callers;
}

/** `(Secret, key)` pairs the README says are created before applying. */
function documentedSecrets(): Set<string> {
  const readme = readFileSync(join(root, "deploy/kubernetes/README.md"), "utf8");
  const pairs = new Set<string>();
  for (const match of readme.matchAll(/^\s*\| `([a-z0-9-]+)`\s*\| ([^|]+)\|/gm)) {
    for (const key of (match[2] ?? "").matchAll(/`([^`]+)`/g)) pairs.add(`${match[1]}/${key[1]}`);
  }
  return pairs;
}

let kubectlMissing: string | undefined;
const rendered = new Map<string, K8sObject[]>();

beforeAll(async () => {
  try {
    await run("kubectl", ["version", "--client"]);
  } catch (error) {
    kubectlMissing = `kubectl (with kustomize v5) is needed to render deploy/kubernetes: ${error instanceof Error ? error.message : String(error)}`;
    return;
  }
  const objects = await Promise.all(overlays.map(render));
  for (const [index, overlay] of overlays.entries()) rendered.set(overlay, objects[index] ?? []);
});

/** The one peer from another namespace a subgraph accepts: Prometheus, for /metrics. */
const PROMETHEUS_PEER = {
  namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } },
  podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } },
};

describe.each(overlays)("deploy/kubernetes/overlays/%s", (overlay) => {
  const objects = () => {
    if (kubectlMissing) throw new Error(kubectlMissing);
    return rendered.get(overlay) ?? [];
  };
  const ofKind = (kind: string) => objects().filter((object) => object.kind === kind);
  const deployments = () => ofKind("Deployment");
  const deployment = (name: string) => {
    const found = deployments().find((object) => object.metadata.name === name);
    if (!found?.spec?.template) throw new Error(`no Deployment ${name}`);
    return { object: found, pod: found.spec.template.spec, labels: found.spec.template.metadata.labels };
  };
  /** A variable as the container sees it: its own `env`, else the ConfigMaps in `envFrom`. */
  const envValue = (main: Container, name: string): string | undefined => {
    const own = main.env?.find((variable) => variable.name === name);
    if (own) return own.value;
    for (const source of main.envFrom ?? []) {
      const configMap = ofKind("ConfigMap").find(
        (object) => object.metadata.name === source.configMapRef?.name,
      );
      const value = configMap?.data?.[name];
      if (value !== undefined) return value;
    }
    return undefined;
  };
  /** Where a variable's value comes from for the container: a literal or a Secret key. */
  const setting = (main: Container, name: string): unknown => {
    const own = main.env?.find((variable) => variable.name === name);
    return own ? (own.valueFrom ?? own.value) : envValue(main, name);
  };
  const jobs = () => ofKind("Job");
  const container = (name: string) => {
    const [only, ...others] = deployment(name).pod.containers;
    expect(others).toEqual([]);
    if (!only) throw new Error(`Deployment ${name} has no container`);
    return only;
  };

  it("has a Deployment per service, each with probes, requests and limits, and a grace period longer than preStop", () => {
    expect(
      deployments()
        .map((object) => object.metadata.name)
        .sort(),
    ).toEqual([...services].sort());
    for (const name of services) {
      const main = container(name);
      expect(main.livenessProbe?.httpGet?.path, name).toBe("/health");
      // The gateway's /ready asks every subgraph; its readiness is the supergraph being loaded.
      expect(main.readinessProbe?.httpGet?.path, name).toBe(name === "gateway" ? "/health" : "/ready");
      for (const resource of ["cpu", "memory"]) {
        expect(main.resources?.requests?.[resource], `${name} requests ${resource}`).toBeTruthy();
        expect(main.resources?.limits?.[resource], `${name} limits ${resource}`).toBeTruthy();
      }
      const [command, seconds] = main.lifecycle?.preStop?.exec?.command ?? [];
      expect(command, name).toBe("sleep");
      const grace = deployment(name).pod.terminationGracePeriodSeconds ?? 0;
      expect(grace, name).toBeGreaterThanOrEqual(Number(seconds) + 20);
      expect(
        main.ports?.some((port) => port.name === "http"),
        name,
      ).toBe(true);
    }
  });

  it("marks every service's pods for scraping at /metrics on the port it serves", () => {
    for (const name of services) {
      const annotations = deployment(name).object.spec?.template?.metadata.annotations ?? {};
      const port = container(name).ports?.find((each) => each.name === "http")?.containerPort;
      expect(annotations, name).toEqual({
        "prometheus.io/scrape": "true",
        "prometheus.io/path": "/metrics",
        "prometheus.io/port": String(port),
      });
    }
  });

  it("runs one gateway worker per CPU of the gateway's limit", () => {
    const main = container("gateway");
    expect(setting(main, "GATEWAY_WORKERS")).toEqual({
      resourceFieldRef: { containerName: "gateway", resource: "limits.cpu", divisor: "1" },
    });
    expect(main.resources?.limits?.cpu).toBeTruthy();
  });

  it("gives every Deployment a grace period longer than its preStop sleep plus its own SHUTDOWN_TIMEOUT_MS", () => {
    for (const name of services) {
      const main = container(name);
      const preStopSeconds = Number(main.lifecycle?.preStop?.exec?.command?.[1]);
      expect(preStopSeconds, name).toBeGreaterThan(0);
      const timeoutMs = Number(envValue(main, "SHUTDOWN_TIMEOUT_MS") ?? DEFAULT_SHUTDOWN_TIMEOUT_MS);
      expect(Number.isInteger(timeoutMs), name).toBe(true);
      const graceSeconds = deployment(name).pod.terminationGracePeriodSeconds ?? 30;
      // The process exits on its own before the kubelet's SIGKILL, with at least a second spare.
      expect(graceSeconds * 1000, name).toBeGreaterThanOrEqual(preStopSeconds * 1000 + timeoutMs + 1000);
    }
  });

  it("runs a migrate Job per database with its service's image and database secret, and no Deployment migrates", () => {
    expect(
      jobs()
        .map((job) => job.metadata.name)
        .sort(),
    ).toEqual(subgraphs.map((name) => `${name}-migrate`).sort());
    const databaseVariable: Record<(typeof subgraphs)[number], string> = {
      users: "USERS_DATABASE_URL",
      catalog: "MONGO_URL",
      orders: "ORDERS_DATABASE_URL",
      inventory: "INVENTORY_DATABASE_URL",
      insights: "INSIGHTS_DATABASE_URL",
      notifications: "NOTIFICATIONS_DATABASE_URL",
    };
    for (const name of subgraphs) {
      const job = jobs().find((object) => object.metadata.name === `${name}-migrate`);
      const pod = job?.spec?.template?.spec;
      if (!job || !pod) throw new Error(`no Job ${name}-migrate`);
      const [migrate, ...others] = pod.containers;
      expect(others, name).toEqual([]);
      if (!migrate) throw new Error(`Job ${name}-migrate has no container`);
      const service = container(name);
      // The image the overlay gives the service, and the command the image has for it.
      expect(migrate.image, name).toBe(service.image);
      expect(migrate.command, name).toEqual(["node", "service/src/bin/migrate.ts"]);
      expect(existsSync(join(root, "subgraphs", name, "src/bin/migrate.ts")), name).toBe(true);
      expect(job.spec?.backoffLimit, name).toBeGreaterThan(0);
      expect(job.spec?.ttlSecondsAfterFinished, name).toBeGreaterThan(0);
      expect(pod.restartPolicy, name).toBe("Never");
      for (const resource of ["cpu", "memory"]) {
        expect(migrate.resources?.requests?.[resource], `${name} requests ${resource}`).toBeTruthy();
        expect(migrate.resources?.limits?.[resource], `${name} limits ${resource}`).toBeTruthy();
      }
      // The deploy order (README) applies this label first, and Argo CD runs the hook first.
      expect(job.metadata.labels?.["app.kubernetes.io/component"], name).toBe("migration");
      expect(job.metadata.annotations?.["argocd.argoproj.io/hook"], name).toBe("PreSync");
      // The same database secret and settings as the service, and no other secret.
      const secretOf = (main: Container, variable: string) =>
        main.env?.find((candidate) => candidate.name === variable)?.valueFrom?.secretKeyRef;
      expect(secretOf(migrate, databaseVariable[name]), name).toEqual(
        secretOf(service, databaseVariable[name]),
      );
      expect(secretOf(migrate, databaseVariable[name])?.name, name).toBe("nexus-stores");
      const secretVariables = (migrate.env ?? []).filter((variable) => variable.valueFrom?.secretKeyRef);
      expect(
        secretVariables.map((variable) => variable.name),
        name,
      ).toEqual([databaseVariable[name]]);
      // Applied before the rest, a Job cannot wait for the generated nexus-config: it reads none,
      // and every setting its command reads has the value its service sees.
      expect(migrate.envFrom ?? [], name).toEqual([]);
      const read =
        name === "catalog"
          ? { MONGO_URL: undefined, CATALOG_MONGO_DATABASE: "catalog", LOG_LEVEL: "info" }
          : { [databaseVariable[name]]: undefined, DATABASE_URL: undefined, LOG_LEVEL: "info" };
      for (const [variable, fallback] of Object.entries(read)) {
        const seen = (main: Container) => JSON.stringify(setting(main, variable) ?? fallback);
        expect(seen(migrate), `${name}-migrate ${variable}`).toBe(seen(service));
      }
      // The service itself only checks that the Job has done its work.
      expect(envValue(service, "DATABASE_MIGRATIONS"), name).toBe("verify");
    }
  });

  it("exposes only the gateway: ClusterIP Services and exactly one Ingress, to the gateway", () => {
    const serviceObjects = ofKind("Service");
    expect(serviceObjects.map((object) => object.metadata.name).sort()).toEqual([...services].sort());
    for (const service of serviceObjects) {
      const name = service.metadata.name;
      expect(service.spec?.type ?? "ClusterIP", name).toBe("ClusterIP");
      expect(
        matches({ matchLabels: service.spec?.selector as Record<string, string> }, deployment(name).labels),
      ).toBe(true);
      expect(service.spec?.ports?.map((port) => port.targetPort)).toEqual(["http"]);
    }
    const ingresses = ofKind("Ingress");
    expect(ingresses).toHaveLength(1);
    const backends = (ingresses[0]?.spec?.rules ?? []).flatMap((rule) =>
      (rule.http?.paths ?? []).map((path) => path.backend.service?.name),
    );
    expect(backends.length).toBeGreaterThan(0);
    expect(new Set(backends)).toEqual(new Set(["gateway"]));
    expect(ingresses[0]?.spec?.defaultBackend).toBeUndefined();
  });

  it("lets a subgraph's pods be reached only from the gateway, the subgraphs whose code calls it and Prometheus", () => {
    const policies = ofKind("NetworkPolicy");
    const callers = callsFromCode();
    expect([...(callers.get("catalog") ?? [])].sort()).toEqual(["gateway", "insights", "orders"]);
    for (const name of subgraphs) {
      const selecting = policies.filter((policy) =>
        matches(policy.spec?.podSelector ?? {}, deployment(name).labels),
      );
      expect(selecting.length, name).toBeGreaterThan(0);
      const allowed = new Set<string>();
      let scraped = false;
      for (const policy of selecting) {
        expect(policy.spec?.policyTypes, policy.metadata.name).toContain("Ingress");
        for (const rule of policy.spec?.ingress ?? []) {
          // A rule without `from`, or with a namespace or address block, would let anyone in.
          expect(rule.from?.length, policy.metadata.name).toBeGreaterThan(0);
          for (const peer of rule.from ?? []) {
            if (peer.namespaceSelector) {
              // Another namespace only for Prometheus, and only its pods there.
              expect(peer, policy.metadata.name).toEqual(PROMETHEUS_PEER);
              scraped = true;
              continue;
            }
            expect(peer.ipBlock, policy.metadata.name).toBeUndefined();
            const podSelector = peer.podSelector;
            if (!podSelector) throw new Error(`${policy.metadata.name}: a peer without podSelector`);
            for (const source of services) {
              if (matches(podSelector, deployment(source).labels)) allowed.add(source);
            }
          }
        }
      }
      expect([...allowed].sort(), name).toEqual([...(callers.get(name) ?? [])].sort());
      expect(scraped, `${name} reachable by Prometheus`).toBe(true);
    }
    // The gateway's pods stay reachable by the Ingress controller.
    expect(
      policies.filter((policy) => matches(policy.spec?.podSelector ?? {}, deployment("gateway").labels)),
    ).toEqual([]);
  });

  it("points autoscalers and disruption budgets at existing Deployments", () => {
    const names = new Set(deployments().map((object) => object.metadata.name));
    for (const hpa of ofKind("HorizontalPodAutoscaler")) {
      expect(hpa.spec?.scaleTargetRef?.kind).toBe("Deployment");
      const target = hpa.spec?.scaleTargetRef?.name ?? "";
      expect(names.has(target), hpa.metadata.name).toBe(true);
      // A replica count in the Deployment would reset the autoscaler's on every apply.
      expect(deployment(target).object.spec?.replicas, target).toBeUndefined();
      expect(hpa.spec?.minReplicas ?? 0).toBeLessThanOrEqual(hpa.spec?.maxReplicas ?? 0);
    }
    const budgets = ofKind("PodDisruptionBudget");
    expect(budgets).toHaveLength(services.length);
    for (const budget of budgets) {
      const selected = services.filter((name) =>
        matches((budget.spec?.selector as Selector | undefined) ?? {}, deployment(name).labels),
      );
      expect(selected, budget.metadata.name).toEqual([budget.metadata.name]);
    }
  });

  it("references only ConfigMaps it renders and Secrets it renders or the README lists", () => {
    const configMaps = new Set(ofKind("ConfigMap").map((object) => object.metadata.name));
    const secrets = new Set(ofKind("Secret").map((object) => object.metadata.name));
    const documented = documentedSecrets();
    const secretUsed = (name: string, key: string) => {
      if (!secrets.has(name)) expect(documented, `Secret ${name}, key ${key}`).toContain(`${name}/${key}`);
    };
    for (const name of services) {
      const main = container(name);
      for (const variable of main.env ?? []) {
        const { secretKeyRef, configMapKeyRef } = variable.valueFrom ?? {};
        if (secretKeyRef) secretUsed(secretKeyRef.name, secretKeyRef.key);
        if (configMapKeyRef) expect(configMaps, variable.name).toContain(configMapKeyRef.name);
      }
      for (const source of main.envFrom ?? []) {
        if (source.configMapRef) expect(configMaps).toContain(source.configMapRef.name);
        // A whole Secret as environment would hand every service every key.
        expect(source.secretRef, name).toBeUndefined();
      }
      for (const volume of deployment(name).pod.volumes ?? []) {
        if (volume.configMap) expect(configMaps).toContain(volume.configMap.name);
        if (volume.secret) expect(secrets).toContain(volume.secret.secretName);
      }
    }
    for (const job of jobs()) {
      for (const variable of job.spec?.template?.spec.containers.flatMap((main) => main.env ?? []) ?? []) {
        const { secretKeyRef } = variable.valueFrom ?? {};
        if (secretKeyRef) secretUsed(secretKeyRef.name, secretKeyRef.key);
      }
    }
    for (const tls of ofKind("Ingress").flatMap((ingress) => ingress.spec?.tls ?? [])) {
      if (tls.secretName) secretUsed(tls.secretName, "tls.crt");
    }
  });

  it("serves the gateway the checked-in supergraph and every partner's persisted query manifest", () => {
    const gateway = container("gateway");
    const env = new Map((gateway.env ?? []).map((variable) => [variable.name, variable.value]));
    const mounts = new Map((gateway.volumeMounts ?? []).map((mount) => [mount.mountPath, mount.name]));
    const volumes = new Map((deployment("gateway").pod.volumes ?? []).map((volume) => [volume.name, volume]));
    const configMapAt = (dir: string) => {
      const volume = volumes.get(mounts.get(dir) ?? "");
      return ofKind("ConfigMap").find((object) => object.metadata.name === volume?.configMap?.name);
    };
    const supergraphPath = env.get("SUPERGRAPH_PATH") ?? "";
    const supergraph = configMapAt(supergraphPath.slice(0, supergraphPath.lastIndexOf("/")));
    expect(supergraph?.data?.["supergraph.graphql"]).toBe(
      readFileSync(join(root, "schema/supergraph.graphql"), "utf8"),
    );
    const operationsDir = env.get("PERSISTED_OPERATIONS_DIR") ?? "";
    expect(operationsDir).not.toBe("");
    const clients = readdirSync(join(root, "schema/operations"), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .filter((client) =>
        existsSync(join(root, "schema/operations", client, "persisted-query-manifest.json")),
      );
    expect(clients.length).toBeGreaterThan(0);
    for (const client of clients) {
      // Mounted as a directory of its own: a ConfigMap volume's nested paths are symlinks, which
      // the gateway's directory listing would skip.
      const manifest = configMapAt(`${operationsDir}/${client}`);
      expect(manifest?.data?.["persisted-query-manifest.json"], client).toBe(
        readFileSync(join(root, "schema/operations", client, "persisted-query-manifest.json"), "utf8"),
      );
    }
  });

  it("sets the environment the overlay is for", () => {
    const config = ofKind("ConfigMap").find((object) => object.metadata.name.startsWith("nexus-config"));
    const hpas = ofKind("HorizontalPodAutoscaler").map((object) => object.metadata.name);
    const metricsToken = container("gateway").env?.find((variable) => variable.name === "METRICS_TOKEN");
    if (overlay === "production") {
      expect(config?.data?.NODE_ENV).toBe("production");
      expect(metricsToken?.valueFrom?.secretKeyRef?.name).toBe("nexus-secrets");
      expect(hpas.sort()).toEqual(["catalog", "gateway", "inventory", "notifications", "orders", "users"]);
      const smtp = container("notifications").env?.find((variable) => variable.name === "SMTP_URL");
      expect(smtp?.valueFrom?.secretKeyRef?.optional).toBeUndefined();
      const gatewayHpa = ofKind("HorizontalPodAutoscaler").find(
        (object) => object.metadata.name === "gateway",
      );
      expect(config?.data?.GATEWAY_REPLICAS).toBe(String(gatewayHpa?.spec?.minReplicas));
    } else {
      expect(config?.data?.NODE_ENV).toBe("development");
      expect(hpas).toEqual([]);
      for (const name of services) expect(deployment(name).object.spec?.replicas ?? 1, name).toBe(1);
    }
  });
});
