// deploy/kubernetes/ is validated offline, with no cluster: kustomization.yaml is rendered in Node
// (it only lists resources, so the rendering is those files' documents), and every object is checked
// against the Kubernetes API schemas twice: by kubernetes-models (JSON schema validators generated
// from the OpenAPI spec: types, required fields, enums, int32) and against the generated models of
// @kubernetes/client-node (also from the OpenAPI spec) for fields the API does not have, which the
// first one lets through. Then what the manifests promise (README.md in that folder) is asserted, and
// the pod's entrypoint script is run with a stand-in for the node.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as models from '@kubernetes/client-node/dist/gen/models/all.js';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { StatefulSet } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import { loadConfig } from '../../server/config';

const root = join(import.meta.dirname, '..', '..');
const dir = join(root, 'deploy', 'kubernetes');
const read = (file: string) => readFileSync(join(dir, file), 'utf8');

type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; [field: string]: unknown };

/** The documents of one YAML file, each a plain object. */
function documents(file: string): Manifest[] {
  return parseAllDocuments(read(file)).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
    return doc.toJS() as Manifest;
  });
}

/** What `kubectl apply -k deploy/kubernetes` applies: its resources' documents, in order. */
function render(): Manifest[] {
  const k = parse(read('kustomization.yaml')) as Record<string, unknown>;
  // Any other kustomize feature (patches, generators, namespace, labels) would change the output:
  // this rendering would no longer be what kubectl applies.
  expect(Object.keys(k).sort()).toEqual(['apiVersion', 'kind', 'resources']);
  return (k.resources as string[]).flatMap(documents);
}

/** Each kind we ship: its kubernetes-models class and its @kubernetes/client-node model. */
const kinds: Record<string, { validate(o: Manifest): void; model: string }> = {
  'v1/ConfigMap': { validate: (o) => new ConfigMap(o as never).validate(), model: 'V1ConfigMap' },
  'v1/Secret': { validate: (o) => new Secret(o as never).validate(), model: 'V1Secret' },
  'v1/Service': { validate: (o) => new Service(o as never).validate(), model: 'V1Service' },
  'apps/v1/StatefulSet': { validate: (o) => new StatefulSet(o as never).validate(), model: 'V1StatefulSet' },
  'policy/v1/PodDisruptionBudget': {
    validate: (o) => new PodDisruptionBudget(o as never).validate(),
    model: 'V1PodDisruptionBudget',
  },
  'networking.k8s.io/v1/NetworkPolicy': {
    validate: (o) => new NetworkPolicy(o as never).validate(),
    model: 'V1NetworkPolicy',
  },
  'networking.k8s.io/v1/Ingress': { validate: (o) => new Ingress(o as never).validate(), model: 'V1Ingress' },
};

type Attribute = { baseName: string; type: string; format: string };
const modelTable = models as unknown as Record<string, { getAttributeTypeMap?: () => Attribute[] } | undefined>;

/** Fields the API does not define, and values of the wrong JSON type, under `type` (a client-node model name). */
function strictErrors(value: unknown, type: string, path: string): string[] {
  if (value === null || value === undefined) return [];
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (!Array.isArray(value)) return [`${path} must be an array`];
    return value.flatMap((v, i) => strictErrors(v, array[1]!, `${path}/${i}`));
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value !== 'object' || Array.isArray(value)) return [`${path} must be an object`];
    return Object.entries(value).flatMap(([k, v]) => strictErrors(v, map[1]!, `${path}/${k}`));
  }
  if (type === 'string' || type === 'Date') return typeof value === 'string' ? [] : [`${path} must be a string`];
  if (type === 'number') return typeof value === 'number' ? [] : [`${path} must be a number`];
  if (type === 'boolean') return typeof value === 'boolean' ? [] : [`${path} must be a boolean`];
  if (type === 'IntOrString')
    return ['number', 'string'].includes(typeof value) ? [] : [`${path} must be int or string`];
  if (type === 'any') return [];
  const attributes = modelTable[type]?.getAttributeTypeMap?.();
  if (!attributes) return [`${path}: no model for ${type}`];
  if (typeof value !== 'object' || Array.isArray(value)) return [`${path} must be an object (${type})`];
  return Object.entries(value).flatMap(([key, v]) => {
    const a = attributes.find((x) => x.baseName === key);
    return a ? strictErrors(v, a.type, `${path}/${key}`) : [`${path}/${key}: no such field in ${type}`];
  });
}

/** Every schema error of one object ([] when it is valid). */
function schemaErrors(o: Manifest): string[] {
  const kind = kinds[`${o.apiVersion}/${o.kind}`];
  if (!kind) return [`${o.apiVersion}/${o.kind} is not a kind this test knows`];
  const errors: string[] = [];
  try {
    kind.validate(o);
  } catch (err) {
    errors.push((err as Error).message);
  }
  return [...errors, ...strictErrors(o, kind.model, '')];
}

const clone = <T>(x: T): T => structuredClone(x);
const byKind = (all: Manifest[], kind: string, name?: string) => {
  const found = all.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (!found) throw new Error(`no ${kind} ${name ?? ''}`);
  return found;
};

type Env = { name: string; value?: string; valueFrom?: unknown };
type Container = {
  env: Env[];
  command: string[];
  args: string[];
  readinessProbe: { httpGet: { path: string } };
  livenessProbe: { httpGet: { path: string } };
  lifecycle: { preStop: { exec: { command: string[] } } };
  volumeMounts: { name: string; mountPath: string }[];
  resources: { requests: { memory: string }; limits: { memory: string } };
};
type PodSpec = {
  containers: Container[];
  terminationGracePeriodSeconds: number;
  topologySpreadConstraints: { topologyKey: string }[];
};
type StatefulSetSpec = {
  serviceName: string;
  replicas: number;
  podManagementPolicy: string;
  minReadySeconds: number;
  updateStrategy: { type: string };
  template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  volumeClaimTemplates: { metadata: { name: string } }[];
};
const spec = <T>(o: Manifest) => o.spec as T;

describe('deploy/kubernetes', () => {
  const all = render();

  it('renders the objects README.md describes, each valid against the Kubernetes API schemas', () => {
    expect(all.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ConfigMap/ringlink-entrypoint',
      'Ingress/ringlink',
      'NetworkPolicy/ringlink',
      'PodDisruptionBudget/ringlink',
      'Service/ringlink',
      'Service/ringlink-peers',
      'Service/ringlink-refused',
      'StatefulSet/ringlink',
    ]);
    for (const o of [...all, ...documents('secret.example.yaml')])
      expect(schemaErrors(o), `${o.kind}/${o.metadata.name}`).toEqual([]);
  });

  /** A copy of one rendered object, changed by `change` (given the copy's spec). */
  const mutated = (kind: string, change: (spec: Record<string, unknown>) => void, name?: string) => () => {
    const o = clone(byKind(all, kind, name));
    change(o.spec as Record<string, unknown>);
    return o;
  };
  const firstContainer = (s: Record<string, unknown>) =>
    (s as unknown as StatefulSetSpec).template.spec.containers[0] as unknown as Record<string, unknown>;
  it.each([
    ['replicas of the wrong type', mutated('StatefulSet', (s) => (s.replicas = 'three'))],
    [
      'a misspelled probe field',
      mutated('StatefulSet', (s) => {
        const c = firstContainer(s);
        c.readinesProbe = c.readinessProbe;
        delete c.readinessProbe;
      }),
    ],
    ['a field the StatefulSet spec does not have', mutated('StatefulSet', (s) => (s.maxUnavailable = 1))],
    ['a podManagementPolicy outside its enum', mutated('StatefulSet', (s) => (s.podManagementPolicy = 'Serial'))],
    [
      'a container port given as a string',
      mutated(
        'StatefulSet',
        (s) => ((firstContainer(s).ports as { containerPort: unknown }[])[0]!.containerPort = '3000'),
      ),
    ],
    [
      'an Ingress pathType outside its enum',
      mutated('Ingress', (s) => {
        const rules = s.rules as { http: { paths: { pathType: string }[] } }[];
        rules[0]!.http.paths[0]!.pathType = 'Prefixes';
      }),
    ],
    [
      'a PodDisruptionBudget selector under a name the API does not have',
      mutated('PodDisruptionBudget', (s) => {
        s.podSelector = s.selector;
        delete s.selector;
      }),
    ],
    ['a Service whose ports are not a list', mutated('Service', (s) => (s.ports = 80), 'ringlink')],
  ])('fails validation with %s', (_what, change) => {
    expect(schemaErrors(change())).not.toEqual([]);
  });

  it('runs a StatefulSet whose pods keep their names and volumes, seeded through a headless Service', () => {
    const s = spec<StatefulSetSpec>(byKind(all, 'StatefulSet'));
    const peers = spec<{ clusterIP: string; publishNotReadyAddresses: boolean; selector: object }>(
      byKind(all, 'Service', s.serviceName),
    );
    expect(peers.clusterIP).toBe('None');
    expect(peers.publishNotReadyAddresses).toBe(true);
    expect(s.template.metadata.labels).toMatchObject(peers.selector);
    const c = s.template.spec.containers[0]!;
    const env = Object.fromEntries(c.env.map((e) => [e.name, e.value ?? e.valueFrom]));
    expect(env.NODE_NAME).toBe('$(POD_NAME)');
    expect(env.ADVERTISE_ADDR).toBe(`$(POD_NAME).${s.serviceName}.$(POD_NAMESPACE).svc:3000`);
    expect(env.PEER_DOMAIN).toBe(`${s.serviceName}.$(POD_NAMESPACE).svc`);
    expect(env.CLUSTER_SECRET).toEqual({ secretKeyRef: { name: 'ringlink-secrets', key: 'cluster-secret' } });
    expect(env.ADMIN_TOKEN).toEqual({ secretKeyRef: { name: 'ringlink-secrets', key: 'admin-token' } });
    const secretExample = documents('secret.example.yaml')[0] as Manifest & { stringData: Record<string, string> };
    expect(secretExample.metadata.name).toBe('ringlink-secrets');
    expect(Object.keys(secretExample.stringData).sort()).toEqual(['admin-token', 'cluster-secret']);
    const dataMount = c.volumeMounts.find((m) => m.name === s.volumeClaimTemplates[0]!.metadata.name);
    expect(dataMount?.mountPath).toBe(env.DATA_DIR);
    expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    expect(c.livenessProbe.httpGet.path).toBe('/healthz');
    expect(s.podManagementPolicy).toBe('OrderedReady');
    expect(s.updateStrategy.type).toBe('RollingUpdate');
    expect(s.minReadySeconds).toBeGreaterThan(0);
    expect(s.template.spec.topologySpreadConstraints.map((t) => t.topologyKey).sort()).toEqual([
      'kubernetes.io/hostname',
      'topology.kubernetes.io/zone',
    ]);
    expect(spec<{ maxUnavailable: number }>(byKind(all, 'PodDisruptionBudget')).maxUnavailable).toBe(1);
    expect(c.resources.requests.memory).toBe(c.resources.limits.memory);
  });

  it("sets only variables the node's config or the entrypoint reads, and the node accepts them", () => {
    const s = spec<StatefulSetSpec>(byKind(all, 'StatefulSet'));
    const c = s.template.spec.containers[0]!;
    const entrypointVars = ['POD_NAME', 'POD_NAMESPACE', 'PEER_DOMAIN', 'SEED_PODS', 'NODE_OPTIONS'];
    const configKeys = Object.keys(loadConfig({}));
    for (const e of c.env) expect([...entrypointVars, ...configKeys], e.name).toContain(e.name);
    // The environment a pod gets (ringlink-1 in namespace prod), with its secrets and the SEEDS the entrypoint sets.
    const pod: Record<string, string> = { POD_NAME: 'ringlink-1', POD_NAMESPACE: 'prod' };
    for (const e of c.env) {
      if (e.value !== undefined) pod[e.name] = e.value.replace(/\$\((\w+)\)/g, (_m, v: string) => pod[v] ?? '');
      else if (e.name === 'POD_NAME' || e.name === 'POD_NAMESPACE')
        expect(e.valueFrom).toEqual({
          fieldRef: { fieldPath: e.name === 'POD_NAME' ? 'metadata.name' : 'metadata.namespace' },
        });
      else pod[e.name] = 'a-secret-of-at-least-16-characters';
    }
    pod.SEEDS = 'ringlink-0.ringlink-peers.prod.svc:3000,ringlink-2.ringlink-peers.prod.svc:3000';
    const config = loadConfig(pod);
    expect(config.nodeName).toBe('ringlink-1');
    expect(config.advertiseAddr).toBe('ringlink-1.ringlink-peers.prod.svc:3000');
    expect(config.DATA_DIR).toBe('/data');
    expect(config.TRUST_PROXY).toBe('1');
    expect(config.LEAVE_ON_SIGTERM).toBe('0');
  });

  it('gives a stop the time the node takes to drain (preStop + shutdownDrainMs + closing ring connections)', () => {
    const pod = spec<StatefulSetSpec>(byKind(all, 'StatefulSet')).template.spec;
    const preStop = pod.containers[0]!.lifecycle.preStop.exec.command;
    expect(preStop[0]).toBe('sleep');
    const drainMs = /const shutdownDrainMs = ([\d_]+);/.exec(readFileSync(join(root, 'server', 'main.ts'), 'utf8'));
    expect(drainMs, 'server/main.ts names shutdownDrainMs').not.toBeNull();
    // ws waits up to 30 s for a peer's close frame (its closeTimeout) before the process exits.
    const wsCloseTimeoutS = 30;
    const needS = Number(preStop[1]) + Number(drainMs![1]!.replace(/_/g, '')) / 1000 + wsCloseTimeoutS;
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(needS);
  });

  it('exposes neither /_ring nor /api/admin through the Ingress, and lets only the set and the controller in', () => {
    const ingress = spec<{
      rules: { http: { paths: { path: string; pathType: string; backend: { service: { name: string } } }[] } }[];
    }>(byKind(all, 'Ingress'));
    const paths = ingress.rules.flatMap((r) => r.http.paths);
    const podLabels = spec<StatefulSetSpec>(byKind(all, 'StatefulSet')).template.metadata.labels;
    const selectsPods = (service: string) => {
      const selector = spec<{ selector: Record<string, string> }>(byKind(all, 'Service', service)).selector;
      return Object.entries(selector).every(([k, v]) => podLabels[k] === v);
    };
    // ingress-nginx takes the longest matching prefix: the path a request is routed by.
    const routeOf = (path: string) =>
      paths
        .filter((p) =>
          p.pathType === 'Exact' ? path === p.path : path === p.path || path.startsWith(p.path.replace(/\/?$/, '/')),
        )
        .sort((a, b) => b.path.length - a.path.length)[0]!.backend.service.name;
    for (const refused of ['/_ring', '/_ring/x', '/api/admin', '/api/admin/', '/api/admin/status', '/api/admin/kv/a'])
      expect(selectsPods(routeOf(refused)), refused).toBe(false);
    for (const served of ['/', '/abc123', '/api/links', '/socket.io/', '/_next/static/x.js', '/api/administrator'])
      expect(selectsPods(routeOf(served)), served).toBe(true);

    const policy = spec<{ podSelector: { matchLabels: object }; ingress: { from: unknown[] }[] }>(
      byKind(all, 'NetworkPolicy'),
    );
    expect(podLabels).toMatchObject(policy.podSelector.matchLabels);
    expect(policy.ingress.flatMap((r) => r.from)).toContainEqual({ podSelector: { matchLabels: podLabels } });
  });
});

/** The entrypoint script of the pods, run by sh with a stand-in for the node. */
describe('deploy/kubernetes entrypoint (ringlink-node.sh)', () => {
  const script = (byKind(render(), 'ConfigMap', 'ringlink-entrypoint') as Manifest & { data: Record<string, string> })
    .data['ringlink-node.sh']!;
  const running: ChildProcess[] = [];
  let work: string;

  afterEach(() => {
    for (const p of running.splice(0)) if (p.exitCode === null) p.kill('SIGKILL');
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** Start the script as ringlink-<ordinal> with `node` standing for the node's command; it writes what it saw to seen. */
  function start(ordinal: number, node: string, opts: { dataDir?: string } = {}) {
    work ??= mkdtempSync(join(tmpdir(), 'ringlink-k8s-'));
    const dataDir = opts.dataDir ?? join(work, 'data');
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(work, 'ringlink-node.sh'), script);
    const seen = join(work, `seen-${running.length}`);
    const stderr: string[] = [];
    const p: ChildProcess = spawn(
      'sh',
      [join(work, 'ringlink-node.sh'), 'sh', '-c', `echo "$NODE_NAME|$SEEDS" > ${seen}; ${node}`],
      {
        env: {
          PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
          POD_NAME: `ringlink-${ordinal}`,
          NODE_NAME: `ringlink-${ordinal}`,
          // .invalid never resolves (RFC 6761): no seed pod answers.
          PEER_DOMAIN: 'ringlink-peers.test.invalid',
          SEED_PODS: '3',
          PORT: '3000',
          DATA_DIR: dataDir,
        } as unknown as NodeJS.ProcessEnv,
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    p.stderr!.on('data', (b: Buffer) => stderr.push(b.toString()));
    running.push(p);
    const exited = new Promise<number | null>((resolve) => p.once('exit', (code) => resolve(code)));
    return { p, seen, dataDir, exited, stderr: () => stderr.join('') };
  }

  const until = async (what: () => boolean) => {
    for (let i = 0; i < 500 && !what(); i++) await new Promise((r) => setTimeout(r, 20));
    expect(what()).toBe(true);
  };
  const seeds = (ordinals: number[]) => ordinals.map((i) => `ringlink-${i}.ringlink-peers.test.invalid:3000`).join(',');

  it('seeds a pod with the first pods but itself, and passes the node its exit code', async () => {
    const r = start(1, 'exit 3');
    expect(await r.exited).toBe(3);
    expect(readFileSync(r.seen, 'utf8').trim()).toBe(`ringlink-1|${seeds([0, 2])}`);
    expect(existsSync(join(r.dataDir, 'ringlink-left'))).toBe(false);
  });

  it('founds the cluster from ringlink-0 only on an empty data directory with no seed pod ready', async () => {
    const fresh = start(0, 'exit 1');
    expect(await fresh.exited).toBe(1);
    expect(readFileSync(fresh.seen, 'utf8').trim()).toBe('ringlink-0|');
    expect(fresh.stderr()).toContain('founding a new cluster');
    const dataDir = join(work, 'restored');
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, 'log-0'), '');
    const restored = start(0, 'exit 1', { dataDir });
    expect(await restored.exited).toBe(1);
    expect(readFileSync(restored.seen, 'utf8').trim()).toBe(`ringlink-0|${seeds([1, 2])}`);
  });

  it('passes SIGTERM on to the node: a stop, not a departure', async () => {
    const r = start(2, `trap 'echo TERM > "$DATA_DIR/got-term"; exit 0' TERM; while :; do sleep 0.05; done`);
    await until(() => existsSync(r.seen));
    r.p.kill('SIGTERM');
    expect(await r.exited).toBe(0);
    expect(readFileSync(join(r.dataDir, 'got-term'), 'utf8').trim()).toBe('TERM');
    expect(existsSync(join(r.dataDir, 'ringlink-left'))).toBe(false);
  });

  it('holds a pod whose node left the ring instead of letting it restart and join again', async () => {
    const left = start(2, 'exit 0');
    const marker = join(left.dataDir, 'ringlink-left');
    await until(() => existsSync(marker));
    expect(left.p.exitCode).toBeNull();
    left.p.kill('SIGTERM');
    expect(await left.exited).toBe(0);
    // The container restarted on the same volume: the node is not started again.
    const again = start(2, 'exit 0', { dataDir: left.dataDir });
    await until(() => again.stderr().includes('not starting it again'));
    expect(existsSync(again.seen)).toBe(false);
    again.p.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  });
});
