export * from './lm';
export * from './subject';
export * from './datasets';
export * from '../lora/shape-check';
export * from './perplexity';
export * from './multiple-choice';
export * from './generate';
export * from './open';
