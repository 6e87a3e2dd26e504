import { buildReportModel } from '../../../src/report/build';
import { renderMarkdown } from '../../../src/report/markdown';
import { computeVerdict, isBaseline } from '../../../src/report/verdict';
import { evalIds, paperLikeNumbers, realRecipe, syntheticRun } from './fixture';

const recipe = realRecipe();
const ids = evalIds(recipe);

describe('the verdict (report and Compare view)', () => {
  test('a winner per metric among the variants; baselines are never ranked', async () => {
    const n = paperLikeNumbers(recipe); // LoRAM 50..54, full LoRA 40 (a baseline: it must not win)
    const m = await buildReportModel(syntheticRun(n, recipe));
    const ppl = m.verdict.standings.find((s) => s.metric === 'perplexity')!;
    expect(ppl.winner).toBe('LoRAM-Rand');
    expect(ppl.text).toBe('Held-out perplexity: LoRAM-Rand is best (50.00), ahead of every other variant by more than 0.5%.');
    expect(m.verdict.baselines.sort()).toEqual(['large + LoRA (full model)', 'large, untuned', 'small + LoRA', 'small, untuned']);
    for (const s of m.verdict.standings) expect(m.verdict.baselines).not.toContain(s.winner);
    expect(m.verdict.gains).toContain('Every variant (5) beats large, untuned (baseline): 32.5–37.5% lower perplexity.');
    expect(m.verdict.gains).toContain('No variant beats large + LoRA (full model) (baseline): 25.0–35.0% higher perplexity.');
    expect(renderMarkdown(m)).toContain(`## Verdict\n\n${m.verdict.headline}`);
  });

  test('values within noise are a tie, named as such', async () => {
    const n = paperLikeNumbers(recipe);
    for (const e of ids.loram) n.ppl[e] = 55.9;
    n.ppl.eval_stru = 55.8;
    for (const e of [...ids.noAlign, ...ids.noRec]) n.ppl[e] = 55.85;
    const m = await buildReportModel(syntheticRun(n, recipe));
    expect(m.verdict.headline).toBe('Held-out perplexity: LoRAM-Stru is best (55.80), but all 13 variants are within 0.5% of it: a tie.');
    const acc = computeVerdict(m.branches, 0.005).standings.find((s) => s.metric === 'accuracy')!;
    expect(acc.tied.length).toBe(13); // every accuracy is 0.3 ± 0.03 in the fixture
  });

  test('isBaseline: untuned and plain-LoRA models', () => {
    expect(isBaseline({ role: 'lora-large' })).toBe(true);
    expect(isBaseline({ role: 'untuned-small' })).toBe(true);
    expect(isBaseline({ role: 'loram' })).toBe(false);
    expect(isBaseline({ role: 'no-recovery' })).toBe(false);
  });
});
