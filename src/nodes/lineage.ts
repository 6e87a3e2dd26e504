/**
 * Lineage: which original model a model or adapter derives from, and the transforms applied since. A node declares
 * its lineage rules once (`lineage` on its definition), on one view of a lineage built either from static keys
 * (before anything runs: the validator, so the editor and `loram validate`) or from the real values (content
 * hashes: the worker, right before `run`, so two Load nodes of one model agree). Both say the same thing in the
 * same words, because it is the same rule.
 */
import type { ModelLineage, ModelTransform, PortValue } from '../shared';
import type { NodeDefinition, NodeInputs, StaticInputs, StaticModelLineage, StaticValue } from './definition';
import { NodeInputError } from './errors';

export interface LineageStep {
  kind: ModelTransform['kind'];
  /** Equal keys ⇔ the same transform (static: the node's static key; at run time: the transform's content). */
  key: string;
  /** For messages: the node id (static), or a description such as "prune stru 50%" (at run time). */
  label: string;
  structured?: boolean;
}

export interface Lineage {
  /** The original model: the Load node's static key, or at run time the content hash of its files. */
  origin: string;
  /** For messages: the Load node's id (static), or the model's name (at run time). */
  label: string;
  steps: LineageStep[];
}

export type LineageValue = { type: 'model'; lineage: Lineage } | { type: 'adapter'; base: Lineage; recovered: boolean };
/** By input port; undefined when not connected, not known yet, or not a model/adapter. */
export type LineageInputs = Record<string, LineageValue | undefined>;

/** A broken rule, on an input (`inputs.<port>`). */
export interface LineageIssue {
  field: string;
  message: string;
}

// ---- the view -------------------------------------------------------------------------------------------------

export function staticLineage(l: StaticModelLineage): Lineage {
  return { origin: l.origin, label: l.originNode, steps: l.chain.map((t) => ({ kind: t.kind, key: t.key, label: t.node, ...(t.structured !== undefined ? { structured: t.structured } : {}) })) };
}

/** The run-time view: a transform is keyed by its content, less where its files are (a prune plan's location). */
export function valueLineage(l: ModelLineage): Lineage {
  return {
    origin: l.origin.id,
    label: l.origin.name,
    steps: l.transforms.map((t) => ({
      kind: t.kind,
      key: JSON.stringify(t.kind === 'prune' ? { ...t, plan: undefined } : t),
      label: describeTransform(t),
      ...(t.kind === 'prune' ? { structured: t.structured } : {}),
    })),
  };
}

function describeTransform(t: ModelTransform): string {
  if (t.kind === 'prune') return `prune ${t.strategy} ${Math.round(t.ratio * 100)}%`;
  if (t.kind === 'align') return `align ${t.steps} steps`;
  if (t.kind === 'quantize') return t.scheme;
  return 'merge';
}

function fromStaticValue(v: StaticValue | StaticValue[] | undefined): LineageValue | undefined {
  if (!v || Array.isArray(v)) return undefined;
  if (v.type === 'model') return { type: 'model', lineage: staticLineage(v.lineage) };
  if (v.type === 'adapter') return { type: 'adapter', base: staticLineage(v.base), recovered: v.recovered };
  return undefined;
}

function fromPortValue(v: PortValue | PortValue[] | undefined): LineageValue | undefined {
  if (!v || Array.isArray(v)) return undefined;
  if (v.type === 'model') return { type: 'model', lineage: valueLineage(v.lineage) };
  if (v.type === 'adapter') return { type: 'adapter', base: valueLineage(v.base), recovered: v.recovered };
  return undefined;
}

export function staticLineageInputs(inputs: StaticInputs): LineageInputs {
  return Object.fromEntries(Object.entries(inputs).map(([port, v]) => [port, fromStaticValue(v)]));
}

export function valueLineageInputs(inputs: NodeInputs): LineageInputs {
  return Object.fromEntries(Object.entries(inputs).map(([port, v]) => [port, fromPortValue(v)]));
}

// ---- what rules ask -------------------------------------------------------------------------------------------

export function modelOf(inputs: LineageInputs, port: string): Lineage | undefined {
  const v = inputs[port];
  return v?.type === 'model' ? v.lineage : undefined;
}

export function adapterOf(inputs: LineageInputs, port: string): { base: Lineage; recovered: boolean } | undefined {
  const v = inputs[port];
  return v?.type === 'adapter' ? v : undefined;
}

export function stepOf(l: Lineage, kind: LineageStep['kind']): LineageStep | undefined {
  return l.steps.find((t) => t.kind === kind);
}

/** Same original model, same transforms? */
export function sameLineage(a: Lineage, b: Lineage): boolean {
  return a.origin === b.origin && a.steps.length === b.steps.length && a.steps.every((t, i) => t.key === b.steps[i]!.key);
}

/** "load1 → prune1 → quant1" (static), "builtin:large → prune stru 50% → nf4" (at run time). */
export function describeLineage(l: Lineage): string {
  return [l.label, ...l.steps.map((t) => t.label)].join(' → ');
}

/** A model value's lineage in words, for logs and results. */
export function describeModel(l: ModelLineage): string {
  return describeLineage(valueLineage(l));
}

/** The rule an adapter input and a model input share (Evaluate, Export): the adapter fits that very model. */
export function adapterFitsModel(inputs: LineageInputs, hint = (_a: Lineage, _m: Lineage) => ''): LineageIssue[] {
  const a = adapterOf(inputs, 'adapter');
  const m = modelOf(inputs, 'model');
  if (!a || !m || sameLineage(a.base, m)) return [];
  return [{ field: 'inputs.adapter', message: `the adapter fits ${describeLineage(a.base)}, not this model (${describeLineage(m)})${hint(a.base, m)}` }];
}

/** The worker's check before `run`: the node's lineage rules on the real values. Throws the first broken one. */
export function checkLineageAtRun(def: NodeDefinition, inputs: NodeInputs, params: unknown): void {
  const issue = def.lineage?.(valueLineageInputs(inputs), params as never)[0];
  if (issue) throw new NodeInputError(issue.message, 'lineage');
}

// ---- the static lineage of outputs (validation) ---------------------------------------------------------------

export function staticModel(inputs: StaticInputs, port: string): StaticModelLineage | undefined {
  const v = inputs[port];
  return v && !Array.isArray(v) && v.type === 'model' ? v.lineage : undefined;
}

/** The static lineage of a model input with one more step by this node. */
export function withStep(inputs: StaticInputs, self: { id: string; key: string }, kind: LineageStep['kind'], structured?: boolean): StaticValue | undefined {
  const m = staticModel(inputs, 'model');
  if (!m) return undefined;
  return { type: 'model', lineage: { ...m, chain: [...m.chain, { node: self.id, kind, key: self.key, ...(structured !== undefined ? { structured } : {}) }] } };
}

// ---- the transforms recorded in a model value -------------------------------------------------------------------

export function quantizeOf(l: ModelLineage): Extract<ModelTransform, { kind: 'quantize' }> | undefined {
  return l.transforms.find((t): t is Extract<ModelTransform, { kind: 'quantize' }> => t.kind === 'quantize');
}

export function pruneOf(l: ModelLineage): Extract<ModelTransform, { kind: 'prune' }> | undefined {
  return l.transforms.find((t): t is Extract<ModelTransform, { kind: 'prune' }> => t.kind === 'prune');
}
