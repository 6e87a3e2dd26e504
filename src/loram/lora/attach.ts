/**
 * Attach LoRA to a LlamaModel (original, pruned, aligned or NF4-quantized): every targeted decoder linear is
 * wrapped in a LoraLinear, and an lm_head target becomes the model's headAdapter. The handle lists the
 * trainable parameters (A and B only), exports a host adapter and detaches cleanly (restoring the base linears).
 */
import type { tf } from '../backend/tf';
import { LINEAR_MODULES } from '../model/config';
import type { LinearModule } from '../model/config';
import type { LlamaModel } from '../model/llama';
import { LORA_TARGETS, type LoraTarget } from '../model/config';
import type { LoraAdapter, LoraAdapterConfig } from './adapter';
import { moduleKey } from './adapter';
import type { LoraHyper } from './lora-linear';
import { LoraFactors, LoraLinear, checkLoraHyper } from './lora-linear';
import { freshLoraWeights, loraModuleSlots } from './modules';

export interface LoraSpec extends LoraHyper {
  targetModules: readonly LoraTarget[];
  /** Decoder layers to adapt (default all). */
  layers?: readonly number[] | null;
  /** Seed of the A initialisation (default 42). */
  seed?: number;
}

/** §4 defaults: r=8, α=16, dropout 0.05, q,k,v,o,gate,up,down and lm_head. */
export const DEFAULT_LORA_SPEC: Readonly<LoraSpec> = Object.freeze({ r: 8, alpha: 16, dropout: 0.05, targetModules: LORA_TARGETS, layers: null, seed: 42 });

export class LoraHandle {
  private detached = false;
  constructor(
    readonly model: LlamaModel,
    readonly spec: LoraSpec,
    /** Module key → factors, in model order. */
    readonly modules: Map<string, LoraFactors>,
  ) {}

  /** The trainable variables (A then B of each module, in model order). */
  params(): tf.Variable[] {
    return [...this.modules.values()].flatMap((f) => f.params());
  }

  numParams(): number {
    return this.params().reduce((n, v) => n + v.size, 0);
  }

  /** A host copy in PEFT layout. */
  export(baseModel = ''): LoraAdapter {
    const config: LoraAdapterConfig = {
      r: this.spec.r,
      alpha: this.spec.alpha,
      dropout: this.spec.dropout,
      targetModules: [...this.spec.targetModules],
      layers: this.spec.layers ? [...this.spec.layers] : null,
      baseModel,
    };
    const modules = new Map([...this.modules].map(([k, f]) => [k, f.toPeft()] as const));
    return { config, modules };
  }

  /** Remove the adapters from the model (base linears back in place) and free their variables. */
  detach(): void {
    if (this.detached) return;
    this.detached = true;
    this.model.layers.forEach((layer, i) => {
      for (const m of LINEAR_MODULES) {
        const lin = layer.linears[m];
        if (lin instanceof LoraLinear && this.modules.get(moduleKey(i, m)) === lin.lora) {
          this.model.setLinear(i, m, lin.base);
          lin.lora.dispose();
        }
      }
    });
    const head = this.modules.get('lm_head');
    if (head && this.model.headAdapter === head) {
      this.model.headAdapter = null;
      head.dispose();
    }
  }
}

function checkSpec(spec: LoraSpec, numLayers: number): void {
  checkLoraHyper(spec);
  if (spec.targetModules.length === 0) throw new Error('LoRA needs at least one target module');
  for (const t of spec.targetModules) if (!LORA_TARGETS.includes(t)) throw new Error(`unknown LoRA target "${t}" (one of ${LORA_TARGETS.join(', ')})`);
  for (const l of spec.layers ?? []) {
    if (!Number.isInteger(l) || l < 0 || l >= numLayers) throw new Error(`LoRA layer ${l} is outside 0..${numLayers - 1}`);
  }
}

/**
 * Wrap the targeted linears of `model`. With `weights`, the adapter's hyper-parameters, targets and layers
 * are used and every module must be present with shapes that fit the model (errors name the module and both
 * shapes); otherwise factors are freshly initialised (A Kaiming-uniform seeded, B zero).
 */
export function attachLora(model: LlamaModel, spec: LoraSpec | LoraAdapter): LoraHandle {
  const adapter = 'modules' in spec && spec.modules instanceof Map ? (spec as LoraAdapter) : null;
  const s: LoraSpec = adapter
    ? { r: adapter.config.r, alpha: adapter.config.alpha, dropout: adapter.config.dropout, targetModules: adapter.config.targetModules, layers: adapter.config.layers }
    : (spec as LoraSpec);
  const cfg = model.config;
  checkSpec(s, cfg.numLayers);
  for (const [i, layer] of model.layers.entries()) {
    for (const m of LINEAR_MODULES) if (layer.linears[m] instanceof LoraLinear) throw new Error(`${moduleKey(i, m)} already has a LoRA adapter; detach it first`);
  }
  if (model.headAdapter) throw new Error('lm_head already has an adapter; detach it first');

  const wanted = loraModuleSlots(cfg, s);
  if (adapter) {
    const wantedKeys = new Set(wanted.map((w) => w.key));
    for (const k of adapter.modules.keys()) if (!wantedKeys.has(k)) throw new Error(`adapter has module ${k}, which the model (${cfg.numLayers} layers, targets ${s.targetModules.join(',')}) does not have`);
    const missing = wanted.filter((w) => !adapter.modules.has(w.key)).map((w) => w.key);
    if (missing.length) throw new Error(`adapter lacks ${missing.length} targeted module(s): ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`);
  }
  const init = adapter ? adapter.modules : freshLoraWeights(wanted, s.r, s.seed ?? 42);

  // Build every factor first, so a shape error leaves the model untouched.
  const built: { w: (typeof wanted)[number]; f: LoraFactors }[] = [];
  try {
    for (const w of wanted) {
      const [inF, outF] = w.layer === null ? [w.inFeatures, w.outFeatures] : dims(model, w.layer, w.target as LinearModule);
      built.push({ w, f: new LoraFactors(w.key, inF, outF, s, { weights: init.get(w.key) }) });
    }
  } catch (e) {
    for (const b of built) b.f.dispose();
    throw e;
  }
  const modules = new Map<string, LoraFactors>();
  for (const { w, f } of built) {
    modules.set(w.key, f);
    if (w.layer === null) model.headAdapter = f;
    else {
      const m = w.target as LinearModule;
      model.setLinear(w.layer, m, new LoraLinear(model.layers[w.layer]!.linears[m], f));
    }
  }
  return new LoraHandle(model, { ...s, targetModules: [...s.targetModules], layers: s.layers ? [...s.layers] : null }, modules);
}

function dims(model: LlamaModel, layer: number, m: LinearModule): [number, number] {
  const lin = model.layers[layer]!.linears[m];
  return [lin.inFeatures, lin.outFeatures];
}
