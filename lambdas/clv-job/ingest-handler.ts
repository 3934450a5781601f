/**
 * The ingest function's entry point (lib/ingest.ts deploys it): its settings are read at cold start,
 * so a bad environment fails the initialisation with one message naming every bad variable.
 */
import { createIngestHandler } from './ingest-function.js';
import { loadIngestSettings } from './ingest-env.js';

export const handler = createIngestHandler({ settings: loadIngestSettings() });
