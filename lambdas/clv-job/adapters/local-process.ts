/**
 * Whether a process with this pid exists on this host: kill 0, which signals nothing; EPERM means it
 * exists but is another user's. A zombie (ended, not yet reaped) still exists here: callers that
 * must tell it apart read /proc (local-run-lock.ts).
 */
export const pidExists = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};
