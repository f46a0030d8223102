export * from './archive.js';
export * from './codec.js';
