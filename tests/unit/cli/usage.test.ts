/** `loram <command> --help`, and how a recipe that is not JSON is reported. */
describe('small CLI findings', () => {
  test('loram <command> --help prints that command\'s usage (exit 0), not an error', async () => {
    const { main } = await import('../../../src/cli/main');
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: { write: (s: string) => void out.push(s) }, err: { write: (s: string) => void err.push(s) }, isTTY: false };
    expect(await main(['validate', '--help'], io)).toBe(0);
    expect(out.join('')).toBe('usage:\n  loram validate <recipe.json> [--json]     check a recipe (exit 0 valid, 2 invalid)\n');
    out.length = 0;
    expect(await main(['plan', '-h'], io)).toBe(0);
    expect(out.join('').split('\n').length).toBe(7);
    expect(err).toEqual([]);
  });

  test('a recipe that is not JSON is reported with line and column, not a character offset', async () => {
    const { parseRecipeText } = await import('../../../src/shared');
    const r = parseRecipeText('{\n  "format": "loram-recipe",\n  x\n}');
    expect(r.errors[0]!.message).toMatch(/^not valid JSON: .* at line 3, column 3$/);
  });
});
