export { Engine, type EngineOptions } from './engine';
export { analyzeRecipe, type Analysis } from './validate';
export { findCycles, topoOrder } from './graph';
export { planRun, ancestorsOf } from './plan';
export { loramHome } from './home';
export { ArtifactStore } from './store';
export { RunStore } from './runs';
export { atomicSaveText } from './recipe-file';
