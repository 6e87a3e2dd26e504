import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { analyzeRecipe } from '../../../src/engine/validate';
import { registry } from '../../../src/nodes/index';

// A folder that passes the Load node's file check (config.json + tokenizer.json exist).
const dir = mkdtempSync(path.join(os.tmpdir(), 'loram-validate-'));
for (const m of ['m1', 'm2']) {
  mkdirSync(path.join(dir, m));
  writeFileSync(path.join(dir, m, 'config.json'), '{}');
  writeFileSync(path.join(dir, m, 'tokenizer.json'), '{}');
}
writeFileSync(path.join(dir, 'data.jsonl'), '{"text": "x"}\n');

type R = { format: string; version: number; name: string; nodes: any[]; edges: any[] };
const n = (id: string, type: string, params: Record<string, unknown> = {}, version = 1) => ({ id, type, version, params, position: { x: 0, y: 0 } });
let ec = 0;
const e = (a: string, ap: string, b: string, bp: string) => ({ id: `x${++ec}`, from: { node: a, port: ap }, to: { node: b, port: bp } });

/** Load → Prune (calibrated) → LoRA-Train → Recover (onto Load) → Evaluate (original + recovered adapter). */
function valid(): R {
  return {
    format: 'loram-recipe',
    version: 1,
    name: 'v',
    nodes: [
      n('load', 'Load', { source: 'm1' }),
      n('data', 'Dataset', { source: 'sotu' }),
      n('prune', 'Prune', { strategy: 'stru', ratio: 0.5 }),
      n('train', 'LoRA-Train', { steps: 5 }),
      n('recover', 'Recover'),
      n('eval', 'Evaluate'),
    ],
    edges: [
      { id: 'e1', from: { node: 'load', port: 'model' }, to: { node: 'prune', port: 'model' } },
      { id: 'e2', from: { node: 'data', port: 'dataset' }, to: { node: 'prune', port: 'calibration' } },
      { id: 'e3', from: { node: 'prune', port: 'model' }, to: { node: 'train', port: 'model' } },
      { id: 'e4', from: { node: 'data', port: 'dataset' }, to: { node: 'train', port: 'dataset' } },
      { id: 'e5', from: { node: 'train', port: 'adapter' }, to: { node: 'recover', port: 'adapter' } },
      { id: 'e6', from: { node: 'load', port: 'model' }, to: { node: 'recover', port: 'model' } },
      { id: 'e7', from: { node: 'load', port: 'model' }, to: { node: 'eval', port: 'model' } },
      { id: 'e8', from: { node: 'recover', port: 'adapter' }, to: { node: 'eval', port: 'adapter' } },
      { id: 'e9', from: { node: 'data', port: 'dataset' }, to: { node: 'eval', port: 'dataset' } },
    ],
  };
}
const mod = (f: (r: R) => void): R => {
  const r = valid();
  f(r);
  return r;
};
const node = (r: R, id: string) => r.nodes.find((x) => x.id === id)!;
const dropEdge = (r: R, id: string) => (r.edges = r.edges.filter((x) => x.id !== id));

type Expect = { code: string; node: string | null; field: string | null };
const X = (code: string, node: string | null, field: string | null): Expect => ({ code, node, field });

const cases: [string, unknown, Expect[]][] = [
  ['bad JSON', '{"format": "loram-recipe", ', [X('invalid-json', null, null)]],
  ['not an object', '[1, 2]', [X('invalid-recipe', null, null)]],
  ['wrong format', mod((r) => (r.format = 'comfy')), [X('invalid-recipe', null, 'format')]],
  ['version from the future', mod((r) => (r.version = 99)), [X('unsupported-version', null, 'version')]],
  ['version zero', mod((r) => (r.version = 0)), [X('unsupported-version', null, 'version')]],
  ['nodes not an array', mod((r) => ((r as any).nodes = {})), [X('invalid-recipe', null, 'nodes')]],
  ['node without a type', mod((r) => delete node(r, 'eval').type), [X('invalid-recipe', 'eval', 'type')]],
  ['bad node id', mod((r) => r.nodes.push(n('has space', 'Dataset'))), [X('invalid-recipe', 'has space', 'id')]],
  ['unknown top-level field', mod((r) => ((r as any).nodez = [])), [X('invalid-recipe', null, 'nodez')]],
  ['unknown node type', mod((r) => (node(r, 'eval').type = 'Evaluat')), [X('unknown-node-type', 'eval', 'type')]],
  ['node version newer than the engine', mod((r) => (node(r, 'prune').version = 7)), [X('unknown-node-version', 'prune', 'version')]],
  ['param of the wrong type', mod((r) => (node(r, 'prune').params.ratio = 'half')), [X('invalid-param', 'prune', 'params.ratio')]],
  ['param out of range', mod((r) => (node(r, 'prune').params.ratio = 1.5)), [X('invalid-param', 'prune', 'params.ratio')]],
  ['param not in its enum', mod((r) => (node(r, 'prune').params.strategy = 'magic')), [X('invalid-param', 'prune', 'params.strategy')]],
  ['unknown param', mod((r) => (node(r, 'train').params.stpes = 3)), [X('invalid-param', 'train', 'params.stpes')]],
  ['bad array element', mod((r) => (node(r, 'train').params.targets = ['q_proj', 'qq'])), [X('invalid-param', 'train', 'params.targets[1]')]],
  ['cross-field rule (semi needs ratio 0.5)', mod((r) => Object.assign(node(r, 'prune').params, { strategy: 'semi', ratio: 0.3 })), [X('invalid-param', 'prune', 'params.ratio')]],
  ['unknown built-in model', mod((r) => (node(r, 'load').params.source = 'builtin:huge')), [X('invalid-param', 'load', 'params.source')]],
  ['missing required input', mod((r) => dropEdge(r, 'e4')), [X('missing-input', 'train', 'inputs.dataset')]],
  ['calibration needed by taylor importance', mod((r) => dropEdge(r, 'e2')), [X('missing-input', 'prune', 'inputs.calibration')]],
  ['port type mismatch', mod((r) => (r.edges.find((x) => x.id === 'e1')!.from = { node: 'data', port: 'dataset' })), [X('type-mismatch', 'prune', 'inputs.model')]],
  ['two edges into one input', mod((r) => r.edges.push(e('load', 'model', 'train', 'model'))), [X('input-already-connected', 'train', 'inputs.model')]],
  ['same edge twice', mod((r) => r.edges.push(e('load', 'model', 'prune', 'model'))), [X('duplicate-edge', 'prune', 'inputs.model')]],
  ['dangling edge (no such source)', mod((r) => r.edges.push(e('ghost', 'model', 'eval', 'choices'))), [X('dangling-edge', 'eval', 'inputs.choices')]],
  ['dangling edge (no such target)', mod((r) => r.edges.push(e('load', 'model', 'ghost', 'model'))), [X('dangling-edge', 'load', 'outputs.model')]],
  ['unknown output port', mod((r) => (r.edges.find((x) => x.id === 'e3')!.from.port = 'pruned')), [X('unknown-port', 'prune', 'outputs.pruned')]],
  ['unknown input port', mod((r) => r.edges.push(e('data', 'dataset', 'eval', 'heldout'))), [X('unknown-port', 'eval', 'inputs.heldout')]],
  [
    'cycle',
    mod((r) => {
      r.nodes.push(n('q', 'Quantize'));
      r.edges.find((x) => x.id === 'e1')!.from = { node: 'q', port: 'model' };
      r.edges.push(e('prune', 'model', 'q', 'model'));
    }),
    [X('cycle', 'prune', null)],
  ],
  ['self loop', mod((r) => r.edges.push(e('recover', 'adapter', 'recover', 'adapter'))), [X('cycle', 'recover', null)]],
  ['duplicate node id', mod((r) => r.nodes.push(n('data', 'Dataset'))), [X('duplicate-node-id', 'data', 'id')]],
  ['duplicate edge id', mod((r) => r.edges.push({ ...e('data', 'dataset', 'eval', 'choices'), id: 'e1' })), [X('duplicate-edge-id', null, 'edges')]],
  [
    'lineage: Recover onto another model than the adapter\'s origin',
    mod((r) => {
      r.nodes.push(n('load2', 'Load', { source: 'm2' }));
      r.edges.find((x) => x.id === 'e6')!.from = { node: 'load2', port: 'model' };
    }),
    // Evaluate then pairs the original with an adapter recovered onto load2: a second, real error.
    [X('lineage', 'recover', 'inputs.model'), X('lineage', 'eval', 'inputs.adapter')],
  ],
  ['lineage: Recover onto the pruned model', mod((r) => (r.edges.find((x) => x.id === 'e6')!.from = { node: 'prune', port: 'model' })), [X('lineage', 'recover', 'inputs.model'), X('lineage', 'eval', 'inputs.adapter')]],
  ['lineage: Recover of an adapter trained on an unpruned model', mod((r) => (r.edges.find((x) => x.id === 'e3')!.from = { node: 'load', port: 'model' })), [X('lineage', 'recover', 'inputs.adapter')]],
  ['lineage: unrecovered adapter on the original', mod((r) => (r.edges.find((x) => x.id === 'e8')!.from = { node: 'train', port: 'adapter' })), [X('lineage', 'eval', 'inputs.adapter')]],
  [
    'lineage: align after quantize',
    mod((r) => {
      r.nodes.push(n('q', 'Quantize'), n('align', 'Align'));
      r.edges.push(e('prune', 'model', 'q', 'model'), e('q', 'model', 'align', 'model'), e('data', 'dataset', 'align', 'dataset'));
    }),
    [X('lineage', 'align', 'inputs.model')],
  ],
  [
    'lineage: pruning twice',
    mod((r) => {
      r.nodes.push(n('prune2', 'Prune', { strategy: 'rand' }));
      r.edges.push(e('prune', 'model', 'prune2', 'model'));
    }),
    [X('lineage', 'prune2', 'inputs.model')],
  ],
  ['missing model folder', mod((r) => (node(r, 'load').params.source = 'no-such-model')), [X('missing-file', 'load', 'params.source')]],
  ['missing dataset file', mod((r) => Object.assign(node(r, 'data').params, { source: 'file', path: 'nope.jsonl' })), [X('missing-file', 'data', 'params.path')]],
  ['dataset file of the wrong kind', mod((r) => Object.assign(node(r, 'data').params, { source: 'file', path: 'data.csv' })), [X('invalid-param', 'data', 'params.path')]],
  [
    'every error at once, none cascading',
    mod((r) => {
      node(r, 'prune').params.ratio = -1;
      node(r, 'eval').type = 'Nope';
      r.edges.push(e('ghost', 'model', 'train', 'model'));
    }),
    [X('invalid-param', 'prune', 'params.ratio'), X('unknown-node-type', 'eval', 'type'), X('dangling-edge', 'train', 'inputs.model')],
  ],
];

describe('validation: invalid recipes', () => {
  test('the valid base recipe has no errors', () => {
    expect(analyzeRecipe(valid(), { registry, baseDir: dir }).errors).toEqual([]);
  });

  test(`the table has at least 25 cases (${cases.length})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  test.each(cases)('%s', (_name, input, expected) => {
    let errors: ReturnType<typeof analyzeRecipe>['errors'] = [];
    expect(() => {
      errors = analyzeRecipe(input, { registry, baseDir: dir }).errors;
    }).not.toThrow();
    const got = errors.map((x) => ({ code: x.code, node: x.node, field: x.field }));
    expect(got).toEqual(expected);
    for (const x of errors) expect(x.message.length).toBeGreaterThan(5);
  });

  test('a cycle error names every node of the cycle', () => {
    const r = mod((r) => {
      r.nodes.push(n('q', 'Quantize'));
      r.edges.find((x) => x.id === 'e1')!.from = { node: 'q', port: 'model' };
      r.edges.push(e('prune', 'model', 'q', 'model'));
    });
    const err = analyzeRecipe(r, { registry, baseDir: dir }).errors[0]!;
    expect(err.nodes).toEqual(['prune', 'q']);
    expect(err.message).toBe('cycle: prune → q → prune');
  });

  test('old node versions are migrated, a missing migration is an error', () => {
    // The real registry's nodes are all version 1: no node has older versions to migrate yet.
    for (const def of registry.list()) expect(def.version).toBeGreaterThanOrEqual(1);
  });
});
