import type { Warning } from '../../schemas/summary-segments.js';

/** What the customers without an acquisition channel are called in tonight's tables, and why when it is not the configured label. */
export interface MissingChannelLabel {
  readonly label: string;
  /** `channel_label_taken` when a real channel bears the configured label; null otherwise. */
  readonly warning: Warning | null;
}

/**
 * The label that groups the customers whose first order carries no channel (channel equity, channel
 * segments, acquisition economics): `configured` ("(none)" by default), unless a real channel bears
 * that name (Google Analytics writes the medium "(none)"). Merged, the two groups would share one
 * row and one spend: the spend of the real channel spread over customers it never acquired. So the
 * label then becomes `<configured> (no channel)`, suffixed again until no channel bears it, and the
 * warning says so. O(customers).
 * @param channels each customer's acquisition channel, null when it has none
 */
export const missingChannelLabel = (channels: readonly (string | null)[], configured: string): MissingChannelLabel => {
  const names = new Set<string>();
  let withoutChannel = 0;
  for (const channel of channels) {
    if (channel === null) withoutChannel += 1;
    else names.add(channel);
  }
  if (withoutChannel === 0 || !names.has(configured)) return { label: configured, warning: null };
  let label = `${configured} (no channel)`;
  while (names.has(label)) label = `${label} (no channel)`;
  return {
    label,
    warning: {
      code: 'channel_label_taken',
      message:
        `a real acquisition channel is named "${configured}", the label of customers without a channel: the ${withoutChannel} customers ` +
        `without one are labelled "${label}" tonight, apart from it; set segments.channels.missingLabel to a name no channel uses`,
      metric: 'channels.channel',
      previous: null,
      current: withoutChannel,
      threshold: 0,
    },
  };
};
