/**
 * Recipe format migrations, tldraw style: `RECIPE_MIGRATIONS[N]` turns a version-N recipe (plain JSON) into a
 * version-(N+1) recipe. To change the format: bump RECIPE_VERSION in recipe.ts, add the step here (never edit
 * an old step), and add its test with a saved old recipe in tests/unit/shared/migrations.test.ts.
 *
 * Node parameters have their own, per-node-kind migrations (a node's `version`); see src/nodes/definition.ts.
 *
 * Version history:
 *   1 — first format.
 *   2 — optional node `sweep` (params as lists of values) and `group`, optional recipe `groups`. A version-1
 *       recipe is a valid version-2 recipe: the step only bumps the number.
 */
export type RecipeJson = Record<string, unknown>;
export type RecipeMigration = (recipe: RecipeJson) => RecipeJson;
/** key N: migrates version N to N+1. */
export type RecipeMigrations = Readonly<Record<number, RecipeMigration>>;

export const RECIPE_MIGRATIONS: RecipeMigrations = {
  1: (r) => r,
};

/**
 * Apply the steps from the recipe's `version` up to `target`. Each step receives a deep copy, and its result
 * gets `version` set to N+1 (a step need not do it). Throws if a step is missing or a step fails.
 */
export function migrateRecipe(recipe: RecipeJson, target: number, migrations: RecipeMigrations = RECIPE_MIGRATIONS): RecipeJson {
  let v = recipe.version;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`recipe version must be a positive integer, got ${JSON.stringify(v)}`);
  if (v > target) throw new Error(`recipe version ${v} is newer than ${target}`);
  let cur: RecipeJson = structuredClone(recipe);
  while (v < target) {
    const step = migrations[v];
    if (!step) throw new Error(`no migration from recipe version ${v} to ${v + 1}`);
    try {
      cur = { ...step(structuredClone(cur)), version: v + 1 };
    } catch (e) {
      throw new Error(`migrating the recipe from version ${v} to ${v + 1} failed: ${(e as Error).message}`);
    }
    v += 1;
  }
  return cur;
}
