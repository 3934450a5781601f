import { LAMBDA_ENV } from '../../lambdas/clv-job/lambda-contract.js';

/** Every variable the CDK stack sets on the function (lib/job.ts), as it sets them, for a bucket. */
export const lambdaEnvironment = (bucket: string): Record<string, string> => ({
  [LAMBDA_ENV.bucket]: bucket,
  [LAMBDA_ENV.inputPrefix]: 'orders/',
  [LAMBDA_ENV.ingestedPrefix]: 'ingested/',
  [LAMBDA_ENV.quarantinePrefix]: 'quarantine/',
  [LAMBDA_ENV.outputPrefix]: 'clv/',
  [LAMBDA_ENV.athenaDatabase]: 'clv',
  [LAMBDA_ENV.athenaTable]: 'orders',
  [LAMBDA_ENV.athenaWorkgroup]: 'clv-job',
  [LAMBDA_ENV.timeUnit]: 'week',
  [LAMBDA_ENV.horizon]: '52',
  [LAMBDA_ENV.discountRate]: '0.1',
  [LAMBDA_ENV.margin]: '1',
  [LAMBDA_ENV.lifespanYears]: '3',
  [LAMBDA_ENV.lockTtlSeconds]: '900',
  [LAMBDA_ENV.gateMaxRejectedShare]: '0.2',
  [LAMBDA_ENV.gateMinRowsForRejectedShare]: '10',
  [LAMBDA_ENV.gateMinCustomersVsPrevious]: '0.5',
  [LAMBDA_ENV.gateMinRevenueVsPrevious]: '0.5',
  [LAMBDA_ENV.gateMaxDaysLatestOrderBeforePrevious]: '30',
  [LAMBDA_ENV.gateMinAcceptedOrders]: '1',
  [LAMBDA_ENV.gateEarliestOrderDate]: 'off',
  [LAMBDA_ENV.gateMaxDaysSinceLatestOrder]: 'off',
});
