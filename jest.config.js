/** Jest runs the TypeScript sources as native ESM, transformed by swc (types are checked by `tsc` separately). */
export default {
  // Node environment sharing the main realm's typed arrays (onnxruntime-node checks instanceof Float32Array).
  testEnvironment: '<rootDir>/tests/jest-environment.cjs',
  extensionsToTreatAsEsm: ['.ts', '.tsx'],
  transform: {
    '^.+\\.(t|j)sx?$': ['@swc/jest', {
      jsc: { parser: { syntax: 'typescript', tsx: true }, target: 'es2022', transform: { react: { runtime: 'automatic' } } },
      module: { type: 'es6' },
    }],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/tests/**/*.test.ts'],
  testTimeout: 120000,
};
