/**
 * The committed built-in family is what its card says (issue 2): both members load from their HF directories with
 * the shapes of BUILTIN_MODELS, share the project's tokenizer, and the large member has clearly lower held-out
 * loss than the small one on the pretraining split's held-out documents — the gap every LoRAM comparison rests on.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { initBackend } from '../../src/loram/backend/backend';
import { evalLoss, packWindows, tokenStream } from '../../src/loram/data/lm-data';
import { loadModelDir } from '../../src/loram/io/model-dir';
import { BUILTIN_MODELS, BUILTIN_NAMES, TOKENIZER_DIR, builtinModelDir, modelsDir } from '../../src/loram/model/builtin';
import { countParams } from '../../src/loram/model/config';
import { LlamaModel } from '../../src/loram/model/llama';
import { PRETRAINING, pretrainingDocuments } from '../../src/loram/model/pretraining-data';
import { loadTokenizer } from '../../src/loram/tokenizer/tokenizer';

const haveModels = BUILTIN_NAMES.every((n) => existsSync(path.join(builtinModelDir(n), 'config.json')));
const d = haveModels ? describe : describe.skip;

d('built-in model family', () => {
  const heldOut: Record<string, number> = {};
  const card: Record<string, { heldOutLoss: number; parameters: number }> = {};

  beforeAll(async () => {
    await initBackend();
    const tok = await loadTokenizer(path.join(modelsDir(), TOKENIZER_DIR));
    // 48 windows of the held-out documents: enough to separate the members, a few seconds to score.
    const windows = packWindows(tokenStream(tok, pretrainingDocuments().val.map((doc) => doc.text)), PRETRAINING.seqLen).slice(0, 48);
    for (const name of BUILTIN_NAMES) {
      const dir = builtinModelDir(name);
      const { config, weights } = await loadModelDir(dir);
      const expected = BUILTIN_MODELS[name].config(tok.vocabSize, { bos: tok.bosId, eos: tok.eosId, pad: tok.padId });
      const shape = (c: typeof config) => ({ layers: c.layers, hidden: c.hiddenSize, headDim: c.headDim, vocab: c.vocabSize, tied: c.tieWordEmbeddings });
      expect(shape(config)).toEqual(shape(expected));
      // Every member ships the family's tokenizer unchanged.
      expect(readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')).toBe(readFileSync(path.join(modelsDir(), TOKENIZER_DIR, 'tokenizer.json'), 'utf8'));
      const model = LlamaModel.fromWeights(config, weights, { trainable: false });
      heldOut[name] = evalLoss(model, windows, PRETRAINING.seqLen).loss;
      model.dispose();
      card[name] = JSON.parse(readFileSync(path.join(dir, 'training.json'), 'utf8'));
      expect(card[name]!.parameters).toBe(countParams(config));
    }
  }, 120_000);

  test('the large member has clearly lower held-out loss than the small one', () => {
    expect(heldOut.large! + 0.1).toBeLessThan(heldOut.small!);
    expect(card.large!.heldOutLoss + 0.1).toBeLessThan(card.small!.heldOutLoss);
  });

  test('the losses recorded in the card are the shipped checkpoints\' (within what a 48-window sample varies)', () => {
    for (const name of BUILTIN_NAMES) expect(Math.abs(heldOut[name]! - card[name]!.heldOutLoss)).toBeLessThan(0.15);
  });
});
