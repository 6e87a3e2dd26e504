/**
 * The one place the ML library imports TensorFlow.js from. The `@tensorflow/tfjs` umbrella is used (not
 * tfjs-core alone) because its Node bundle is what registers the gradient functions.
 */
import * as tf from '@tensorflow/tfjs';

export { tf };
export type Tensor = tf.Tensor;
export type Variable = tf.Variable;
