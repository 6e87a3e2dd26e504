export * from './align';
