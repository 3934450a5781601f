import { describe, expect, it } from 'vitest';
import { MAX_MESSAGE_BYTES, messageBody } from '../../lambdas/clv-job/adapters/sns-notifier.js';

/** SNS refuses a message over 256 KB: the quarantine message must go out however long its reason is. */
describe('an SNS message body', () => {
  it('is the message itself up to 256 KB', () => {
    const message = 'x'.repeat(MAX_MESSAGE_BYTES);

    expect(messageBody(message)).toBe(message);
  });

  it('is cut to 256 KB on a character boundary, saying so, when longer', () => {
    // three bytes a character: a cut at a byte count lands inside one
    const message = '注'.repeat(100_000);

    const body = messageBody(message);

    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(body.endsWith('\n... (cut: SNS takes 256 KB at most)')).toBe(true);
    expect(body).not.toContain('\uFFFD');
    expect(message.startsWith(body.slice(0, -'\n... (cut: SNS takes 256 KB at most)'.length))).toBe(true);
  });
});
