export * from './proto';
export * from './graph';
export * from './export';
export * from './runtime';
