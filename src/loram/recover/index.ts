export * from './structured';
export * from './sparse';
export * from './merge';
