// What the API server does to an object before storing it: defaulting (so templates compare
// equal however they were written) and validation (422 Invalid with field causes). Pure.
import { AnalysisRun } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/AnalysisRun';
import { AnalysisTemplate } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/AnalysisTemplate';
import { Rollout } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/Rollout';
import { invalid } from './errors.js';
import { randomUUID } from 'node:crypto';
import { clone, isPlainObject, type KObject } from './objects.js';
import type { ResourceDef } from './resources.js';
import { fromLabelSelector, matches } from './selectors.js';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

type Cause = { field: string; message: string };

function defaultPodSpec(spec: Record<string, unknown>): void {
  spec.restartPolicy ??= 'Always';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.securityContext ??= {};
  for (const c of (Array.isArray(spec.containers) ? spec.containers : []) as Array<Record<string, unknown>>) {
    if (!isPlainObject(c)) continue;
    c.imagePullPolicy ??= typeof c.image === 'string' && c.image.endsWith(':latest') ? 'Always' : 'IfNotPresent';
    c.terminationMessagePath ??= '/dev/termination-log';
    c.terminationMessagePolicy ??= 'File';
    c.resources ??= {};
    for (const p of (Array.isArray(c.ports) ? c.ports : []) as Array<Record<string, unknown>>) if (isPlainObject(p)) p.protocol ??= 'TCP';
  }
}

function validatePodSpec(spec: unknown, field: string, causes: Cause[]): void {
  const containers = isPlainObject(spec) ? spec.containers : undefined;
  if (!Array.isArray(containers) || containers.length === 0) {
    causes.push({ field: `${field}.containers`, message: 'Required value' });
    return;
  }
  const names = new Set<string>();
  containers.forEach((c: unknown, i) => {
    const cc = isPlainObject(c) ? c : {};
    if (typeof cc.name !== 'string' || !DNS_LABEL.test(cc.name))
      causes.push({ field: `${field}.containers[${i}].name`, message: 'Required value: a DNS-1123 label' });
    else if (names.has(cc.name)) causes.push({ field: `${field}.containers[${i}].name`, message: `Duplicate value: "${cc.name}"` });
    else names.add(cc.name);
    if (typeof cc.image !== 'string' || cc.image.trim() === '')
      causes.push({ field: `${field}.containers[${i}].image`, message: 'Required value' });
  });
}

function defaultWorkload(o: KObject): void {
  const spec = (o.spec ??= {});
  spec.replicas ??= 1;
  if (o.kind === 'Deployment') {
    spec.revisionHistoryLimit ??= 10;
    spec.progressDeadlineSeconds ??= 600;
    spec.strategy ??= { type: 'RollingUpdate' };
    spec.strategy.type ??= 'RollingUpdate';
    if (spec.strategy.type === 'RollingUpdate')
      spec.strategy.rollingUpdate = { maxSurge: '25%', maxUnavailable: '25%', ...(spec.strategy.rollingUpdate ?? {}) };
  }
  spec.template ??= {};
  spec.template.metadata ??= {};
  spec.template.spec ??= {};
  if (isPlainObject(spec.template.spec)) defaultPodSpec(spec.template.spec);
}

/** A pod template as the API server stores it in a ReplicaSet: the controllers compare templates this way. */
export function defaultedTemplate(template: unknown): KObject['spec'] {
  const o = { kind: 'ReplicaSet', metadata: {}, spec: { template: clone(template ?? {}) } } as KObject;
  defaultWorkload(o);
  return o.spec.template;
}

function validateWorkload(o: KObject, causes: Cause[]): void {
  const spec = o.spec ?? {};
  if (typeof spec.replicas !== 'number' || !Number.isInteger(spec.replicas) || spec.replicas < 0) {
    causes.push({ field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(spec.replicas)}: must be greater than or equal to 0` });
  }
  const sel = fromLabelSelector(spec.selector);
  if (sel.length === 0) causes.push({ field: 'spec.selector', message: 'Required value' });
  else if (!matches(sel, spec.template?.metadata?.labels)) {
    causes.push({ field: 'spec.template.metadata.labels', message: 'Invalid value: `selector` does not match template `labels`' });
  }
  validatePodSpec(spec.template?.spec, 'spec.template.spec', causes);
  if (o.kind === 'Deployment') {
    const st = spec.strategy?.type;
    if (st !== 'RollingUpdate' && st !== 'Recreate')
      causes.push({ field: 'spec.strategy.type', message: `Unsupported value: "${st}": supported values: "Recreate", "RollingUpdate"` });
    if (typeof spec.progressDeadlineSeconds !== 'number' || spec.progressDeadlineSeconds <= 0) {
      causes.push({ field: 'spec.progressDeadlineSeconds', message: 'Invalid value: must be greater than 0' });
    }
  }
}

/** Go clients send `null` for empty fields (`creationTimestamp: null`); the API server drops them on decode. */
function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = dropNulls(x);
    return out;
  }
  return v;
}

/** Defaults then validates `input` for `def`; throws 422 Invalid listing every problem. */
/** A label value as the API server checks it: at most 63 characters, alphanumeric at both ends. */
const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

function validateLabels(labels: unknown, field: string, causes: Cause[]): void {
  if (!isPlainObject(labels)) return;
  for (const [k, v] of Object.entries(labels)) {
    if (typeof v !== 'string' || !LABEL_VALUE.test(v)) {
      causes.push({
        field: `${field}`,
        message: `Invalid value: "${String(v)}" for label ${k}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (63 characters at most)`,
      });
    }
  }
}

export function admit(def: ResourceDef, input: KObject, old?: KObject): KObject {
  const o = { ...clone(input), spec: dropNulls(input.spec) } as KObject;
  if (o.spec === undefined) delete o.spec;
  if (isPlainObject(o.metadata)) o.metadata = dropNulls(o.metadata) as KObject['metadata'];
  o.metadata ??= {};
  const causes: Cause[] = [];
  const name = o.metadata.name ?? '';
  if (!name) causes.push({ field: 'metadata.name', message: 'Required value: name or generateName is required' });
  else if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    causes.push({
      field: 'metadata.name',
      message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`,
    });
  }
  validateLabels(o.metadata.labels, 'metadata.labels', causes);
  if (def.kind === 'Deployment' || def.kind === 'ReplicaSet' || def.kind === 'Job')
    validateLabels(o.spec?.template?.metadata?.labels, 'spec.template.metadata.labels', causes);
  switch (def.kind) {
    case 'Deployment':
    case 'ReplicaSet':
      defaultWorkload(o);
      validateWorkload(o, causes);
      if (old && JSON.stringify(old.spec?.selector) !== JSON.stringify(o.spec?.selector)) {
        causes.push({ field: 'spec.selector', message: 'Invalid value: field is immutable' });
      }
      break;
    case 'Job':
      admitJob(o, causes, old);
      break;
    case 'Pod':
      o.spec ??= {};
      defaultPodSpec(o.spec);
      validatePodSpec(o.spec, 'spec', causes);
      break;
    case 'Service': {
      o.spec ??= {};
      o.spec.type ??= 'ClusterIP';
      o.spec.sessionAffinity ??= 'None';
      const ports = o.spec.ports;
      if (!Array.isArray(ports) || ports.length === 0) causes.push({ field: 'spec.ports', message: 'Required value' });
      else
        ports.forEach((p: Record<string, unknown>, i: number) => {
          if (typeof p.port !== 'number' || p.port < 1 || p.port > 65535)
            causes.push({ field: `spec.ports[${i}].port`, message: 'Invalid value: must be between 1 and 65535' });
          p.protocol ??= 'TCP';
          p.targetPort ??= p.port;
        });
      if (old?.spec?.clusterIP) o.spec.clusterIP = old.spec.clusterIP;
      o.spec.clusterIP ??= `10.96.${Math.floor(Math.random() * 250) + 1}.${Math.floor(Math.random() * 250) + 1}`;
      o.spec.clusterIPs ??= [o.spec.clusterIP];
      break;
    }
    case 'HTTPRoute':
      admitHttpRoute(o, causes);
      break;
    case 'VirtualService':
      admitVirtualService(o, causes);
      break;
    case 'Rollout':
    case 'AnalysisTemplate':
    case 'AnalysisRun':
      admitArgo(o, causes);
      break;
    case 'Namespace':
      o.spec ??= { finalizers: ['kubernetes'] };
      o.status ??= { phase: 'Active' };
      break;
  }
  if (causes.length) throw invalid(def.kind, def.group, name, causes);
  return o;
}

const weightOk = (w: unknown, max: number) => w === undefined || (Number.isInteger(w) && (w as number) >= 0 && (w as number) <= max);

/** The Gateway API CRD's defaults and schema rules for HTTPRoute (v1.2), as the API server applies them. */
function admitHttpRoute(o: KObject, causes: Cause[]): void {
  o.spec ??= {};
  const rootMatch = () => [{ path: { type: 'PathPrefix', value: '/' } }];
  for (const p of o.spec.parentRefs ?? []) {
    p.group ??= 'gateway.networking.k8s.io';
    p.kind ??= 'Gateway';
  }
  o.spec.rules ??= [{ matches: rootMatch() }];
  if (!Array.isArray(o.spec.rules) || o.spec.rules.length > 16)
    causes.push({ field: 'spec.rules', message: 'Invalid value: must have at most 16 items' });
  (Array.isArray(o.spec.rules) ? o.spec.rules : []).forEach((r: Record<string, unknown>, i: number) => {
    r.matches ??= rootMatch();
    const refs = (r.backendRefs ?? []) as Array<Record<string, unknown>>;
    if (refs.length > 16) causes.push({ field: `spec.rules[${i}].backendRefs`, message: 'Invalid value: must have at most 16 items' });
    refs.forEach((b, j) => {
      const at = `spec.rules[${i}].backendRefs[${j}]`;
      b.group ??= '';
      b.kind ??= 'Service';
      b.weight ??= 1;
      if (typeof b.name !== 'string' || !b.name) causes.push({ field: `${at}.name`, message: 'Required value' });
      if (!weightOk(b.weight, 1_000_000))
        causes.push({
          field: `${at}.weight`,
          message: `Invalid value: ${JSON.stringify(b.weight)}: must be an integer between 0 and 1000000`,
        });
      if (b.kind === 'Service' && b.group === '' && b.port === undefined)
        causes.push({ field: at, message: 'Invalid value: "object": Must have port for Service reference' });
    });
  });
}

const ARGO_MODELS = { Rollout, AnalysisTemplate, AnalysisRun } as const;

/** Argo Rollouts' CRD schemas, as the API server applies them (@kubernetes-models/argo-rollouts). */
function admitArgo(o: KObject, causes: Cause[]): void {
  try {
    const Model = ARGO_MODELS[o.kind as keyof typeof ARGO_MODELS];
    new Model(o as never).validate();
  } catch (err) {
    for (const line of String((err as Error).message).split(/,\s*(?=data)/))
      causes.push({
        field: line
          .replace(/^data\//, '')
          .split(' ')[0]!
          .replaceAll('/', '.'),
        message: line.replace(/^\S+\s*/, ''),
      });
  }
  validateLabels(o.spec?.template?.metadata?.labels, 'spec.template.metadata.labels', causes);
}

/** What Istio's validating webhook refuses in a VirtualService's http routes. */
function admitVirtualService(o: KObject, causes: Cause[]): void {
  o.spec ??= {};
  (Array.isArray(o.spec.http) ? o.spec.http : []).forEach((r: Record<string, unknown>, i: number) => {
    ((r.route ?? []) as Array<Record<string, unknown>>).forEach((d, j) => {
      const at = `spec.http[${i}].route[${j}]`;
      if (typeof (d.destination as Record<string, unknown> | undefined)?.host !== 'string')
        causes.push({ field: `${at}.destination.host`, message: 'Required value' });
      if (!weightOk(d.weight, 100))
        causes.push({
          field: `${at}.weight`,
          message: `Invalid value: ${JSON.stringify(d.weight)}: weight must be an integer between 0 and 100`,
        });
    });
  });
}

/**
 * batch/v1 Job as the API server defaults and checks it: the generated selector on the Job's own
 * uid and the labels it puts on the template, restartPolicy Never or OnFailure, and a template
 * that cannot change afterwards.
 */
function admitJob(o: KObject, causes: Cause[], old?: KObject): void {
  const spec = (o.spec ??= {});
  spec.parallelism ??= 1;
  spec.completions ??= 1;
  spec.backoffLimit ??= 6;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  spec.podReplacementPolicy ??= 'TerminatingOrFailed';
  spec.template ??= {};
  spec.template.metadata ??= {};
  spec.template.spec ??= {};
  if (!old) {
    const uid = (o.metadata.uid ??= randomUUID());
    const generated = {
      'batch.kubernetes.io/controller-uid': uid,
      'batch.kubernetes.io/job-name': o.metadata.name ?? '',
      'controller-uid': uid,
      'job-name': o.metadata.name ?? '',
    };
    if (spec.selector && !spec.manualSelector)
      causes.push({ field: 'spec.selector', message: 'Invalid value: `selector` will be auto-generated' });
    spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
    spec.template.metadata.labels = { ...(spec.template.metadata.labels ?? {}), ...generated };
  }
  const policy = spec.template.spec.restartPolicy;
  if (policy !== 'Never' && policy !== 'OnFailure') {
    causes.push({
      field: 'spec.template.spec.restartPolicy',
      message: `${policy === undefined ? 'Required value' : `Unsupported value: "${policy}"`}: supported values: "OnFailure", "Never"`,
    });
  }
  if (isPlainObject(spec.template.spec)) defaultPodSpec(spec.template.spec);
  validatePodSpec(spec.template.spec, 'spec.template.spec', causes);
  for (const k of ['backoffLimit', 'activeDeadlineSeconds'] as const) {
    const v = spec[k];
    if (v !== undefined && (!Number.isInteger(v) || v < (k === 'backoffLimit' ? 0 : 1)))
      causes.push({
        field: `spec.${k}`,
        message: `Invalid value: ${JSON.stringify(v)}: must be ${k === 'backoffLimit' ? 'greater than or equal to 0' : 'greater than 0'}`,
      });
  }
  if (old && JSON.stringify(old.spec?.template) !== JSON.stringify(spec.template)) {
    causes.push({ field: 'spec.template', message: 'Invalid value: field is immutable' });
  }
}
