export { Engine, type EngineOptions } from './engine';
export { analyzeRecipe, findCycles, topoOrder, type Analysis } from './validate';
export { planRun, ancestorsOf } from './plan';
export { loramHome } from './home';
export { ArtifactStore } from './store';
export { RunStore } from './runs';
export { atomicSaveText } from './recipe-file';
