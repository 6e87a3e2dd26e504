/** The contract shared by the engine, the CLI and the editor. Imports only zod: safe for the renderer. */
export * from './api';
export * from './connect';
export * from './errors';
export * from './events';
export * from './migrations';
export * from './node-spec';
export * from './ports';
export * from './recipe';
export * from './serialize';
export * from './sweep';
export * from './report';
export * from './memory';
