import { describe, expect, it } from 'vitest';
import { missingChannelLabel } from '../../../lambdas/clv-job/domain/segments/missing-channel-label.js';

describe('the label of customers without an acquisition channel', () => {
  it('is the configured one when no channel bears it', () => {
    expect(missingChannelLabel(['search', null, 'email'], '(none)')).toEqual({ label: '(none)', warning: null });
  });

  it('is the configured one when every customer has a channel, even one named like it (nobody to tell apart)', () => {
    expect(missingChannelLabel(['(none)', 'search'], '(none)')).toEqual({ label: '(none)', warning: null });
  });

  it('keeps a real channel of that name apart (Google Analytics\' medium "(none)"), and says so', () => {
    const { label, warning } = missingChannelLabel([null, null, '(none)', '(none)'], '(none)');

    expect(label).toBe('(none) (no channel)');
    expect(warning).toMatchObject({ code: 'channel_label_taken', current: 2 });
    expect(warning?.message).toContain('the 2 customers without one are labelled "(none) (no channel)"');
    expect(warning?.message).toContain('segments.channels.missingLabel');
  });

  it('suffixes again while a channel bears the new label too', () => {
    expect(missingChannelLabel([null, 'direct', 'direct (no channel)'], 'direct').label).toBe('direct (no channel) (no channel)');
  });
});
