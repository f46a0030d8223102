// Package entry: the server, its configuration, the client and the recipes.
export { ZkServer } from './server/ZkServer.js';
export { defaultConfig, type ServerConfig } from './config/ServerConfig.js';
export { parseZooCfg, loadZooCfg } from './config/ZooCfg.js';
export * from './client/index.js';
export * from './recipes/index.js';
