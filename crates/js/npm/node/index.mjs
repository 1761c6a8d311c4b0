// ESM entry for Node: the same instance as the CommonJS entry.
import cjs from './index.cjs';

export const { decode, defaultOptions, init } = cjs;
