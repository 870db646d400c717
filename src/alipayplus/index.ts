/**
 * The Alipay+ protocol library: wire types, signatures, a typed client and the receiving side.
 * It imports nothing from the gateway or the sandbox; both build on it.
 */
export * from './wire.js';
export * from './result.js';
export * from './amount.js';
export * from './datetime.js';
export * from './signature.js';
export * from './message.js';
export * from './client.js';
export * from './receiver.js';
