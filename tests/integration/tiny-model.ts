/**
 * A tiny random LLaMA in Hugging Face format with the project's tokenizer (models/tokenizer), for running the
 * real nodes through the engine in seconds. Its numbers mean nothing; the wiring is what is tested.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { saveModelDir } from '../../src/loram/io/model-dir';
import { makeConfig } from '../../src/loram/model/config';
import { randomWeights } from '../../src/loram/model/llama';
import { loadTokenizer } from '../../src/loram/tokenizer/tokenizer';

export const TOKENIZER_DIR = fileURLToPath(new URL('../../models/tokenizer/', import.meta.url));

export async function makeTinyModel(dir: string, seed = 0): Promise<string> {
  const tok = await loadTokenizer(TOKENIZER_DIR);
  const cfg = makeConfig({
    vocabSize: tok.vocabSize,
    hiddenSize: 32,
    numLayers: 4,
    numHeads: 4,
    numKvHeads: 2,
    intermediateSize: 64,
    tieWordEmbeddings: true,
    maxPositionEmbeddings: 256,
    bosTokenId: tok.bosId,
    eosTokenId: tok.eosId,
    padTokenId: tok.padId,
  });
  await saveModelDir(dir, cfg, randomWeights(cfg, seed, 0.05));
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) {
    if (existsSync(path.join(TOKENIZER_DIR, f))) copyFileSync(path.join(TOKENIZER_DIR, f), path.join(dir, f));
  }
  return dir;
}

export function ensureDir(d: string): string {
  mkdirSync(d, { recursive: true });
  return d;
}
