export * from './plan';
export * from './mask';
export * from './structured';
export * from './sparsegpt';
export * from './sparse';
export { CaptureLinear, InputStats, StopForward, checkCalibration } from './calibration';
