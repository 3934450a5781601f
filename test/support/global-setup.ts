import { stopSharedTrino } from './trino-server.js';

/** The run's shared services: nothing starts here (a test file starts Trino when it needs it); the teardown stops what was started. */
export default function setup(): () => Promise<void> {
  return async () => {
    const dir = process.env.CLV_TRINO_DIR;
    if (dir) await stopSharedTrino(dir);
  };
}
