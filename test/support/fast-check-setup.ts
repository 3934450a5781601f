import fc from 'fast-check';
import { propertySeed } from './fast-check-seed.js';

// vitest's setup file, run before every test file: every fc.assert runs with the pinned seed.
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: propertySeed(process.env.FC_SEED) });
