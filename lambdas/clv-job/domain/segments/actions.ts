import type { Tier } from '../../schemas/tables.js';
import type { RfmSegment } from './rfm.js';
import type { ValueLoyaltyCell } from './value-loyalty.js';

/**
 * Recommended actions per segment, kept as data so marketing can change them in the config file
 * (`actions` of the segment settings) without a release. Each list is shown as given, in order.
 */
export interface ActionsTable {
  readonly clvTiers: Readonly<Record<Tier, readonly string[]>>;
  readonly valueLoyalty: Readonly<Record<ValueLoyaltyCell, readonly string[]>>;
  readonly rfm: Readonly<Record<RfmSegment, readonly string[]>>;
}

/** Overrides from configuration: a segment named here has its whole list replaced. */
export interface ActionsOverrides {
  readonly clvTiers?: Readonly<Partial<Record<Tier, readonly string[]>>>;
  readonly valueLoyalty?: Readonly<Partial<Record<ValueLoyaltyCell, readonly string[]>>>;
  readonly rfm?: Readonly<Partial<Record<RfmSegment, readonly string[]>>>;
}

export const DEFAULT_ACTIONS: ActionsTable = {
  clvTiers: {
    high: [
      'Protect: proactive account management and priority service',
      'Exclusive offers, early access and ambassador or referral programmes',
      'Watch P(alive) and recency closely; step in at the first sign of decline',
    ],
    mid: [
      'Grow: cross-sell and upsell towards the high tier',
      'Loyalty incentives tied to the next purchase',
      'Personalised recommendations from purchase history',
    ],
    low: [
      'Serve at low cost: automated email and self-service',
      'Conversion focus: a second-purchase incentive for one-time buyers',
      'Minimal paid retention or acquisition spend',
    ],
  },
  valueLoyalty: {
    high_value_high_loyalty: [
      'Exclusive offers and early access',
      'Ambassador and referral programmes',
    ],
    high_value_low_loyalty: [
      'Proactive account management: reach out before they lapse',
      'Loyalty incentives to turn big spenders into regulars',
    ],
    low_value_high_loyalty: [
      'Automated, low-cost retention (lifecycle email, loyalty points)',
      'Basket-building offers to raise spend per order',
    ],
    low_value_low_loyalty: [
      'Minimal investment: keep in low-cost automated journeys only',
      'Conversion focus: one well-timed offer for a second purchase',
    ],
  },
  rfm: {
    Champions: ['Reward them: early access, exclusive offers', 'Ask for reviews and referrals; make them ambassadors'],
    'Loyal Customers': ['Upsell higher-value products', 'Invite to the loyalty programme; ask for reviews'],
    'Potential Loyalist': ['Offer membership or a loyalty programme', 'Personalised recommendations to build the habit'],
    'New Customers': ['Onboarding and a welcome series', 'An early incentive for the second purchase'],
    Promising: ['Build awareness of the range: samples or trials', 'Light-touch offers to encourage a repeat purchase'],
    'Need Attention': ['Limited-time offers based on past purchases', 'Re-engage before they slip further'],
    'About To Sleep': ['Share popular or new products; a modest discount', 'Reconnect through their preferred channel'],
    'At Risk': ['Personalised win-back messages and renewals', 'Find out what changed: survey or service check'],
    "Can't Lose Them": ['Personal outreach: talk to them, win them back', 'Show what is new; a strong, exclusive win-back offer'],
    Hibernating: ['Offer relevant products and special discounts', 'Keep in low-frequency, low-cost campaigns'],
    Lost: ['One low-cost reactivation attempt, then suppress', 'Exclude from paid campaigns'],
  },
};

/** The defaults with the overridden segments' lists replaced. */
export const mergeActions = (base: ActionsTable, overrides: ActionsOverrides | undefined): ActionsTable => ({
  clvTiers: { ...base.clvTiers, ...definedOnly(overrides?.clvTiers) },
  valueLoyalty: { ...base.valueLoyalty, ...definedOnly(overrides?.valueLoyalty) },
  rfm: { ...base.rfm, ...definedOnly(overrides?.rfm) },
});

/** Drops keys whose value is undefined, so `{ high: undefined }` cannot erase a default. */
const definedOnly = <K extends string>(record: Readonly<Partial<Record<K, readonly string[]>>> | undefined): Partial<Record<K, readonly string[]>> =>
  Object.fromEntries(Object.entries(record ?? {}).filter(([, v]) => v !== undefined)) as Partial<Record<K, readonly string[]>>;
