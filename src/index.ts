export { ZkServer } from './server/ZkServer.js';
export { defaultConfig, type ServerConfig } from './config/ServerConfig.js';
