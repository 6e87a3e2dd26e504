import type { NodeSpec, RecipeNode } from '../../../src/shared/index';
import { EMPTY_DECORATION, type NodeDecoration } from '../../../src/renderer/src/editor/flow';
import { cardClassName, headlineMetrics, inputPortTitle, paramSummary, progressFraction, sparklinePoints } from '../../../src/renderer/src/editor/node-card';

const spec = {
  type: 'X',
  version: 1,
  title: 'X',
  category: 'model',
  doc: '',
  inputs: [],
  outputs: [],
  params: {
    type: 'object',
    properties: {
      lr: { type: 'number', default: 0.001 },
      name: { type: 'string', default: 'a' },
      steps: { type: 'integer', default: 10 },
      rank: { type: 'integer', default: 8 },
      layers: { type: 'array', items: { type: 'integer' } },
      seed: { type: 'integer', default: 0 },
    },
  },
} as unknown as NodeSpec;

const node = (params: Record<string, unknown>) => ({ id: 'x1', type: 'X', version: 1, position: { x: 0, y: 0 }, params }) as unknown as RecipeNode;
const deco = (d: Partial<NodeDecoration>): NodeDecoration => ({ ...EMPTY_DECORATION, ...d });

describe('node card', () => {
  test('the parameter summary puts changed values first, then the first defaults, at most four', () => {
    expect(paramSummary({ spec, node: node({ lr: 0.001, name: 'a', steps: 10, rank: 16, seed: 0 }) })).toEqual(['rank 16', 'lr 0.001', 'name a', 'steps 10']);
    // Numbers to four significant digits; long lists and empty values are left out.
    expect(paramSummary({ spec, node: node({ lr: 0.000123456, name: '', layers: [1, 2, 3, 4] }) })).toEqual(['lr 0.0001235']);
    expect(paramSummary({ spec, node: node({ layers: [1, 2] }) })).toEqual(['layers 1,2']);
    expect(paramSummary({ spec: null, node: node({ lr: 1 }) })).toEqual([]);
  });

  test('card classes', () => {
    expect(cardClassName({ spec, deco: deco({}) }, false)).toBe('node-card status-idle');
    expect(cardClassName({ spec: null, deco: deco({ status: 'failed', errors: [{ message: 'm' } as never], target: true }) }, true)).toBe('node-card status-failed selected has-errors unknown run-target');
  });

  test('progress only while running with steps', () => {
    expect(progressFraction(deco({ status: 'running', progress: { step: 5, total: 20 } }))).toBe(0.25);
    expect(progressFraction(deco({ status: 'running', progress: { step: 30, total: 20 } }))).toBe(1);
    expect(progressFraction(deco({ status: 'running', progress: { step: 0, total: 0 } }))).toBeNull();
    expect(progressFraction(deco({ status: 'done', progress: { step: 5, total: 20 } }))).toBeNull();
  });

  test('headline metrics: the first three numbers of a done or cached node', () => {
    const metrics = { a: 1, b: 'text', c: 2, d: 3, e: 4 } as never;
    expect(headlineMetrics(deco({ status: 'done', metrics }))).toEqual([['a', 1], ['c', 2], ['d', 3]]);
    expect(headlineMetrics(deco({ status: 'cached', metrics: { a: 1 } }))).toEqual([['a', 1]]);
    expect(headlineMetrics(deco({ status: 'running', metrics }))).toEqual([]);
    expect(headlineMetrics(deco({ status: 'done', metrics: null }))).toEqual([]);
  });

  test('sparkline points span the box; a flat line sits at the bottom margin', () => {
    expect(sparklinePoints([0, 1], 84, 22)).toBe('0.0,20.0 84.0,2.0');
    expect(sparklinePoints([3, 3, 3], 10, 10)).toBe('0.0,8.0 5.0,8.0 10.0,8.0');
  });

  test('input port tooltip', () => {
    expect(inputPortTitle({ name: 'm', title: 'Model', type: 'model' } as never)).toBe('Model (model)');
    expect(inputPortTitle({ name: 'd', title: 'Data', type: 'dataset', optional: true, multiple: true } as never)).toBe('Data (dataset, optional, many)');
  });
});
