import { migrateRecipe, parseRecipe, RECIPE_MIGRATIONS, RECIPE_VERSION, type RecipeMigrations } from '../../../src/shared';

describe('recipe migrations', () => {
  test('every version below the current one has a step', () => {
    for (let v = 1; v < RECIPE_VERSION; v++) expect(typeof RECIPE_MIGRATIONS[v]).toBe('function');
  });

  // A made-up history: v1 had `links: [[from, fromPort, to, toPort]]`, v2 renamed it to `edges` objects, v3 added `name`.
  const history: RecipeMigrations = {
    1: (r) => {
      const { links, ...rest } = r as { links: [string, string, string, string][] };
      return { ...rest, edges: links.map(([a, ap, b, bp], i) => ({ id: `e${i + 1}`, from: { node: a, port: ap }, to: { node: b, port: bp } })) };
    },
    2: (r) => ({ name: 'untitled', ...r }),
  };
  const v1 = { format: 'loram-recipe', version: 1, nodes: [{ id: 'a' }, { id: 'b' }], links: [['a', 'model', 'b', 'model']] };

  test('steps apply in order, each bumping the version', () => {
    const out = migrateRecipe(v1, 3, history);
    expect(out).toEqual({
      format: 'loram-recipe',
      version: 3,
      name: 'untitled',
      nodes: [{ id: 'a' }, { id: 'b' }],
      edges: [{ id: 'e1', from: { node: 'a', port: 'model' }, to: { node: 'b', port: 'model' } }],
    });
    expect(v1.version).toBe(1); // input untouched
    expect(migrateRecipe({ ...v1, version: 2, edges: [] }, 3, history).version).toBe(3);
    expect(migrateRecipe(out, 3, history)).toEqual(out);
  });

  test('a missing step, a failing step, or a version from the future are errors', () => {
    expect(() => migrateRecipe(v1, 4, history)).toThrow(/no migration from recipe version 3 to 4/);
    expect(() => migrateRecipe({ ...v1, links: 5 }, 3, history)).toThrow(/from version 1 to 2 failed/);
    expect(() => migrateRecipe({ ...v1, version: 5 }, 3, history)).toThrow(/newer/);
  });

  test('parseRecipe migrates with the given table and reports a failed migration', () => {
    // With a table whose current target is RECIPE_VERSION, old versions go through it.
    const failing: RecipeMigrations = {};
    if (RECIPE_VERSION > 1) expect(parseRecipe({ ...v1 }, failing).errors[0]!.code).toBe('unsupported-version');
    else expect(parseRecipe({ format: 'loram-recipe', version: 1, nodes: [] }, failing).errors).toEqual([]);
  });
});
