// Types of comet.mjs: the same as comet.js's (comet.d.ts).
export * from './comet.js';
export { default } from './comet.js';
