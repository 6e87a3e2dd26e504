/**
 * Jest test environment for suites that use onnxruntime-node. Jest runs each test file in its own vm
 * context with its own typed-array constructors, while onnxruntime-node's native binding returns arrays from
 * Node's main realm; onnxruntime-common's `instanceof Float32Array` checks then fail ("A float32 tensor's
 * data must be type of function Float32Array()"). Sharing the main realm's constructors fixes that.
 * It is the environment of every test file (jest.config.js), so any suite may use ORT.
 */
const { TestEnvironment } = require('jest-environment-node');

const SHARED = ['ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array'];

class OrtEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}

module.exports = OrtEnvironment;
