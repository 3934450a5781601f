/** Whether an S3 call failed because the key is not there: NoSuchKey (GET), a bare 404 (HEAD) or NotFound. */
export const isMissing = (error: unknown): boolean =>
  (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode === 404 ||
  ['NoSuchKey', 'NotFound'].includes((error as { name?: string })?.name ?? '');
