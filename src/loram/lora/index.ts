export * from './lora-linear';
export * from './adapter';
export * from './attach';
export * from './train';
export * from './modules';
