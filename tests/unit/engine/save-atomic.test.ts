import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { recipeSchema, serializeRecipe } from '../../../src/shared';
import { Engine } from '../../../src/engine/engine';
import { tempHome } from './helpers';

const CHILD = fileURLToPath(new URL('./fixtures/save-loop.mjs', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('recipe save', () => {
  test('saveRecipe writes the deterministic serialisation and refuses a malformed recipe', async () => {
    const home = tempHome();
    const engine = new Engine({ home });
    const file = path.join(home, 'sub', 'r.json');
    const r = recipeSchema.parse({ format: 'loram-recipe', version: 2, name: 'x', nodes: [{ id: 'a', type: 'Load', version: 1, params: { source: 'builtin:small' } }] });
    await engine.saveRecipe(file, r);
    expect(readFileSync(file, 'utf8')).toBe(serializeRecipe(r));
    await expect(engine.saveRecipe(file, { ...r, nodes: [{ id: '', type: 'x' }] } as never)).rejects.toThrow(/not a valid recipe/);
    expect(readFileSync(file, 'utf8')).toBe(serializeRecipe(r));
    const loaded = await engine.loadRecipe(file);
    expect(loaded.recipe).toEqual(r);
    expect(loaded.fromVersion).toBe(2);
    await engine.close();
  });

  test('a save interrupted by SIGKILL leaves the old or the new file, never a partial one', async () => {
    const home = tempHome();
    const file = path.join(home, 'recipe.json');
    writeFileSync(file, 'initial');
    const seen = new Set<string>();
    for (let round = 0; round < 12; round++) {
      const child = spawn(process.execPath, [CHILD, file, home], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
        child.on('exit', (code) => reject(new Error(`child exited early (${code})`)));
      });
      await sleep(5 + ((round * 7) % 40));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const text = readFileSync(file, 'utf8');
      const parsed = JSON.parse(text) as { name: string; nodes: unknown[] };
      expect(['A', 'B']).toContain(parsed.name);
      expect(parsed.nodes.length).toBe(parsed.name === 'A' ? 400 : 40);
      expect(text.endsWith('\n')).toBe(true);
      seen.add(parsed.name);
    }
    // Only temporary siblings (never the target) can be left behind by a kill.
    expect(readdirSync(home).filter((f) => f !== 'recipe.json' && !f.startsWith('.loram-tmp-'))).toEqual([]);
  }, 120_000);
});
