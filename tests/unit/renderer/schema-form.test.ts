import { checkField, errorsByField, errorsOutsideFields, fieldErrors, fieldFromSchema, fieldsFromSchema, fieldText, humanize, isDefaultValue, paramKeyOf, parseFieldText, rangeText, toggleChoice, typedTextError } from '../../../src/renderer/src/editor/schema-form';
import { SPECS } from '../server/fake-engine';

const spec = (t: string) => SPECS.find((s) => s.type === t)!;

describe('inspector forms from the params JSON Schema', () => {
  test('Prune: enums, ranges, defaults, help text, optional fields', () => {
    const f = fieldsFromSchema(spec('Prune').params);
    const by = Object.fromEntries(f.map((x) => [x.key, x]));
    expect(f.map((x) => x.key)).toEqual(['strategy', 'ratio', 'importance', 'layerStart', 'layerEnd', 'calibrationSamples', 'calibrationTokens', 'seed']);
    expect(by.strategy).toMatchObject({ kind: 'enum', options: ['rand', 'stru', 'semi', 'unst'], default: 'stru', required: false });
    expect(by.ratio).toMatchObject({ kind: 'number', minimum: 0, maximum: 0.99, default: 0.5, title: 'Ratio' });
    expect(by.ratio!.description).toMatch(/Share removed/);
    expect(by.layerStart).toMatchObject({ kind: 'integer', minimum: 0, required: false });
    expect(by.layerStart!.default).toBeUndefined();
    expect(by.calibrationSamples!.title).toBe('Calibration samples');
  });

  test('LoRA-Train targets is a multi-choice; Quantize blockSize is a numeric enum; Load has examples', () => {
    const lt = fieldsFromSchema(spec('LoRA-Train').params);
    expect(lt.find((x) => x.key === 'targets')).toMatchObject({ kind: 'enum-list', minItems: 1 });
    expect(lt.find((x) => x.key === 'lr')).toMatchObject({ kind: 'number', exclusiveMinimum: 0, maximum: 1, title: 'LR' });
    const q = fieldsFromSchema(spec('Quantize').params);
    expect(q.find((x) => x.key === 'blockSize')).toMatchObject({ kind: 'enum', options: [64, 128, 256, 512, 1024, 2048, 4096] });
    expect(q.find((x) => x.key === 'doubleQuant')).toMatchObject({ kind: 'boolean', default: true });
    const l = fieldsFromSchema(spec('Load').params);
    expect(l[0]).toMatchObject({ kind: 'string', examples: ['builtin:large', 'builtin:small'], minLength: 1 });
    const d = fieldsFromSchema(spec('Dataset').params);
    expect(d.find((x) => x.key === 'categories')).toMatchObject({ kind: 'string-list' });
  });

  test('every field of every node kind gets a known kind', () => {
    for (const s of SPECS) for (const f of fieldsFromSchema(s.params)) expect(f.kind).not.toBe('json');
  });

  test('local checks give the inline errors', () => {
    const f = fieldsFromSchema(spec('Prune').params);
    const ratio = f.find((x) => x.key === 'ratio')!;
    expect(checkField(ratio, 0.5)).toBeNull();
    expect(checkField(ratio, 1.5)).toBe('must be at most 0.99');
    expect(checkField(ratio, -1)).toBe('must be at least 0');
    expect(checkField(ratio, undefined)).toBeNull();
    const seed = f.find((x) => x.key === 'seed')!;
    expect(checkField(seed, 1.5)).toBe('must be a whole number');
    const lr = fieldsFromSchema(spec('LoRA-Train').params).find((x) => x.key === 'lr')!;
    expect(checkField(lr, 0)).toBe('must be greater than 0');
    const targets = fieldsFromSchema(spec('LoRA-Train').params).find((x) => x.key === 'targets')!;
    expect(checkField(targets, [])).toBe('choose at least one');
    expect(checkField(targets, ['q_proj', 'zz'])).toMatch(/items must be among/);
    const strat = f.find((x) => x.key === 'strategy')!;
    expect(checkField(strat, 'nope')).toMatch(/must be one of rand, stru/);
    expect(checkField(fieldFromSchema('x', { type: 'string' }, true), undefined)).toBe('required');
  });

  test('typed text → values', () => {
    const n = fieldFromSchema('lr', { type: 'number' }, false);
    expect(parseFieldText(n, '1e-4')).toEqual({ ok: true, value: 1e-4 });
    expect(parseFieldText(n, '')).toEqual({ ok: true, value: undefined });
    expect(parseFieldText(n, '1e-')).toEqual({ ok: false, error: 'must be a number' });
    // The inspector's words for it name the field and what it takes.
    const steps = fieldFromSchema('steps', { type: 'integer', minimum: 1, maximum: 100000 }, false);
    expect(typedTextError(steps, ' abc ', 'must be a number')).toBe('Steps: "abc" is not a number; expected a whole number 1 – 100000');
    expect(typedTextError(n, 'x', 'must be a number')).toBe('LR: "x" is not a number; expected a number');
    const l = fieldFromSchema('c', { type: 'array', items: { type: 'string' } }, false);
    expect(parseFieldText(l, 'news, fiction ,')).toEqual({ ok: true, value: ['news', 'fiction'] });
    expect(fieldText(l, ['a', 'b'])).toBe('a, b');
  });

  test('range text and labels', () => {
    expect(rangeText(fieldFromSchema('r', { type: 'number', minimum: 0, maximum: 0.99 }, false))).toBe('0 – 0.99');
    expect(rangeText(fieldFromSchema('r', { type: 'number', exclusiveMinimum: 0 }, false))).toBe('> 0');
    expect(rangeText(fieldFromSchema('r', { type: 'integer', minimum: 1 }, false))).toBe('≥ 1');
    expect(rangeText(fieldFromSchema('r', { type: 'string' }, false))).toBeNull();
    expect(humanize('maxGradNorm')).toBe('Max grad norm');
  });

  test('engine errors by field', () => {
    const m = errorsByField(
      [
        { code: 'invalid-param', node: 'p', field: 'params.ratio', message: 'too big' },
        { code: 'missing-input', node: 'p', field: 'inputs.model', message: 'connect a model' },
        { code: 'invalid-param', node: 'q', field: 'params.ratio', message: 'other node' },
      ],
      'p',
    );
    expect(m.get('ratio')).toEqual(['too big']);
    expect(m.get('inputs.model')).toEqual(['connect a model']);
    expect(m.size).toBe(2);
  });

  test('the parameter an error points into', () => {
    expect(paramKeyOf('params.ratio')).toBe('ratio');
    expect(paramKeyOf('params.targets[2]')).toBe('targets');
    expect(paramKeyOf('params.sweep.values')).toBe('sweep');
    expect(paramKeyOf('inputs.model')).toBeNull();
    expect(paramKeyOf(undefined)).toBeNull();
  });

  test('errors outside the fields: other nodes and errors a field shows are left out', () => {
    const fields = fieldsFromSchema(spec('Prune').params);
    const errors = [
      { code: 'invalid-param', node: 'p', field: 'params.ratio', message: 'too big' },
      { code: 'invalid-param', node: 'p', field: 'params.unknownKey', message: 'unknown' },
      { code: 'missing-input', node: 'p', field: 'inputs.model', message: 'connect a model' },
      { code: 'missing-input', node: 'p', message: 'no field' },
      { code: 'invalid-param', node: 'q', field: 'inputs.model', message: 'other node' },
    ] as Parameters<typeof errorsOutsideFields>[0];
    expect(errorsOutsideFields(errors, 'p', fields).map((e) => e.message)).toEqual(['unknown', 'connect a model', 'no field']);
  });

  test('field errors: the local check first, else the engine\'s without repeats', () => {
    const ratio = fieldsFromSchema(spec('Prune').params).find((f) => f.key === 'ratio')!;
    expect(fieldErrors(ratio, 5, ['engine says'])).toEqual([checkField(ratio, 5)]);
    expect(fieldErrors(ratio, 0.5, ['a', 'a', 'b'])).toEqual(['a', 'b']);
    expect(fieldErrors(ratio, 0.5, [])).toEqual([]);
  });

  test('default values and enum-list toggles', () => {
    const ratio = fieldsFromSchema(spec('Prune').params).find((f) => f.key === 'ratio')!;
    expect(isDefaultValue(ratio, undefined)).toBe(true);
    expect(isDefaultValue(ratio, 0.5)).toBe(true);
    expect(isDefaultValue(ratio, 0.4)).toBe(false);
    const options = ['q', 'k', 'v', 'o'];
    expect(toggleChoice(options, ['o', 'q'], 'k')).toEqual(['q', 'k', 'o']);
    expect(toggleChoice(options, ['q', 'k'], 'q')).toEqual(['k']);
  });
});
