/**
 * Tokenizer loading for real and built-in models alike: a Hugging Face `tokenizer.json` (plus the optional
 * `tokenizer_config.json` beside it) run by @huggingface/tokenizers (pure JS, no native code).
 *
 * Two behaviours of that library are deliberately overridden so that decode(encode(x)) === x:
 * - decode never applies `clean_up_tokenization_spaces` (the library defaults it to true, which turns
 *   " ." into "." and " n't" into "n't");
 * - special tokens are added by us (`addBos`/`addEos`), never by the file's post-processor, so a model's
 *   template cannot silently add tokens the caller did not ask for.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';

export interface EncodeOptions {
  /** Prepend the BOS id (error if the tokenizer has none). Default false. */
  addBos?: boolean;
  /** Append the EOS id (error if the tokenizer has none). Default false. */
  addEos?: boolean;
}

export interface DecodeOptions {
  /** Drop special tokens (BOS/EOS/PAD and any other `special` added token). Default false. */
  skipSpecial?: boolean;
}

export interface LoadedTokenizer {
  /** The tokenizer.json this was loaded from ('' when built from objects). */
  readonly path: string;
  /** Number of ids (max id + 1, added tokens included): the embedding rows a model needs. */
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly padId: number | null;
  readonly bosToken: string | null;
  readonly eosToken: string | null;
  readonly padToken: string | null;
  /** Ids of all special added tokens. */
  readonly specialIds: ReadonlySet<number>;
  encode(text: string, opts?: EncodeOptions): number[];
  decode(ids: readonly number[], opts?: DecodeOptions): string;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  /** The underlying @huggingface/tokenizers instance. */
  readonly raw: Tokenizer;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** tokenizer_config.json stores a token either as a string or as an AddedToken object {content, ...}. */
function tokenString(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (isObject(v) && typeof v.content === 'string') return v.content;
  return null;
}

function resolvePaths(dirOrFile: string): { tokenizerPath: string; configPath: string } {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dirOrFile);
  } catch {
    throw new Error(`tokenizer not found: ${dirOrFile} does not exist (expected a tokenizer.json or a directory containing one)`);
  }
  const tokenizerPath = stat.isDirectory() ? path.join(dirOrFile, 'tokenizer.json') : dirOrFile;
  if (!fs.existsSync(tokenizerPath)) throw new Error(`tokenizer not found: ${tokenizerPath} does not exist`);
  return { tokenizerPath, configPath: path.join(path.dirname(tokenizerPath), 'tokenizer_config.json') };
}

function readJson(file: string, what: string): Json {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`could not read ${what} ${file}: ${(e as Error).message}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`${what} ${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(v)) throw new Error(`${what} ${file} must contain a JSON object`);
  return v;
}

/** Build from already-parsed JSON (`where` names the source in error messages). */
export function tokenizerFromJson(tokenizerJson: Json, config: Json = {}, where = '<tokenizer.json>'): LoadedTokenizer {
  if (!isObject(tokenizerJson.model)) throw new Error(`${where} is not a tokenizer.json: it has no "model" object`);
  if (tokenizerJson.added_tokens !== undefined && !Array.isArray(tokenizerJson.added_tokens)) {
    throw new Error(`${where}: "added_tokens" must be an array`);
  }
  // The library insists on these keys being present; files from other tools sometimes omit the null ones.
  const full: Json = { normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, added_tokens: [], ...tokenizerJson };
  let raw: Tokenizer;
  try {
    raw = new Tokenizer(full, config);
  } catch (e) {
    throw new Error(`${where} could not be loaded by @huggingface/tokenizers: ${(e as Error).message}`);
  }

  const vocab = raw.get_vocab(true);
  let vocabSize = 0;
  for (const id of vocab.values()) if (id + 1 > vocabSize) vocabSize = id + 1;
  const specialIds = new Set<number>();
  const specialNames: string[] = [];
  for (const [id, t] of raw.get_added_tokens_decoder()) {
    if (t.special) {
      specialIds.add(id);
      specialNames.push(t.content);
    }
  }

  // Roles: tokenizer_config.json first; otherwise well-known names (ours, LLaMA-3, LLaMA-2, GPT-2).
  const pick = (key: string, candidates: string[]): string | null => {
    const fromConfig = tokenString(config[key]);
    if (fromConfig !== null && raw.token_to_id(fromConfig) !== undefined) return fromConfig;
    if (config[key] === null) return null;
    return candidates.find((c) => raw.token_to_id(c) !== undefined) ?? null;
  };
  const bosToken = pick('bos_token', ['<|begin_of_text|>', '<s>', '<|endoftext|>']);
  const eosToken = pick('eos_token', ['<|end_of_text|>', '</s>', '<|endoftext|>']);
  const padToken = pick('pad_token', ['<|pad|>', '<pad>']);
  const idOf = (t: string | null) => (t === null ? null : raw.token_to_id(t) ?? null);
  const bosId = idOf(bosToken);
  const eosId = idOf(eosToken);
  const padId = idOf(padToken);

  return {
    path: where,
    vocabSize,
    bosId,
    eosId,
    padId,
    bosToken,
    eosToken,
    padToken,
    specialIds,
    raw,
    encode(text: string, opts: EncodeOptions = {}): number[] {
      if (typeof text !== 'string') throw new TypeError('encode: text must be a string');
      const ids = text.length === 0 ? [] : raw.encode(text, { add_special_tokens: false }).ids;
      if (opts.addBos) {
        if (bosId === null) throw new Error(`encode: ${where} has no BOS token`);
        ids.unshift(bosId);
      }
      if (opts.addEos) {
        if (eosId === null) throw new Error(`encode: ${where} has no EOS token`);
        ids.push(eosId);
      }
      return ids;
    },
    decode(ids: readonly number[], opts: DecodeOptions = {}): string {
      for (const id of ids) {
        if (!Number.isInteger(id) || id < 0 || id >= vocabSize || raw.id_to_token(id) === undefined) {
          throw new RangeError(`decode: id ${id} is not in the vocabulary of ${where} (size ${vocabSize})`);
        }
      }
      const kept = opts.skipSpecial ? ids.filter((id) => !specialIds.has(id)) : [...ids];
      // The library throws on an empty list; the empty sequence decodes to the empty string.
      if (kept.length === 0) return '';
      return raw.decode(kept, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
    },
    tokenToId: (token: string) => raw.token_to_id(token),
    idToToken: (id: number) => raw.id_to_token(id),
  };
}

/**
 * Load `dirOrFile` (a tokenizer.json, or a model directory containing one; tokenizer_config.json next
 * to it is used when present). Errors name the offending path.
 */
export function loadTokenizerSync(dirOrFile: string): LoadedTokenizer {
  const { tokenizerPath, configPath } = resolvePaths(dirOrFile);
  const json = readJson(tokenizerPath, 'tokenizer file');
  const config = fs.existsSync(configPath) ? readJson(configPath, 'tokenizer config') : {};
  return tokenizerFromJson(json, config, tokenizerPath);
}

/** Async form of loadTokenizerSync (same result; reading is small enough to do synchronously). */
export async function loadTokenizer(dirOrFile: string): Promise<LoadedTokenizer> {
  return loadTokenizerSync(dirOrFile);
}
