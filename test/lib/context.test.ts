import { readFileSync } from 'node:fs';
import { App, Duration, Size } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { CONTEXT_KEYS, clvSettingsFromContext } from '../../lib/context.js';
import { ClvConfigurationError } from '../../lib/validation.js';

const settings = (context: Record<string, unknown>) => clvSettingsFromContext(new App({ context }).node);

describe('clvSettingsFromContext', () => {
  it('leaves every prop to its default when no key is set, in the stack "ClvJob"', () => {
    expect(settings({})).toEqual({ stackName: 'ClvJob', props: {} });
  });

  it('reads the strings `cdk deploy -c key=value` passes', () => {
    const { stackName, props } = settings({
      stackName: 'ClvJobDev',
      alarmEmail: 'ops@example.com',
      scheduleCron: 'cron(0 2 * * ? *)',
      scheduleTimeZone: 'Europe/Paris',
      inputPrefix: 'in/',
      outputPrefix: 'out/',
      athenaResultsPrefix: 'athena/',
      athenaResultsExpirationDays: '3',
      noncurrentVersionExpirationDays: '60',
      ingestedPrefix: 'canonical/',
      quarantinePrefix: 'unreadable/',
      quarantineEmail: 'data@example.com',
      ingestConfig: '{"columns":{"order_id":"OrderNo"},"csv":{"delimiter":";","decimalSeparator":","}}',
      ingestMemoryMb: '3008',
      ingestHandlerEntry: '/tmp/ingest-handler.ts',
      databaseName: 'clv_dev',
      workgroupName: 'clv-dev',
      bytesScannedCutoffGiB: '0.5',
      memoryMb: '2048',
      timeoutMinutes: '10',
      serviceName: 'clv-dev',
      logRetentionDays: '365',
      noSuccessAlarmHours: '12',
      handlerEntry: '/tmp/handler.ts',
      timeUnit: 'day',
      horizon: '180',
      discountRate: '0.08',
      margin: '0.3',
      lifespanYears: '5',
      transactions: 'pnbd',
      intervalDraws: '200',
      intervalSeed: '42',
      gates: '{"maxRejectedShare":0.05,"minCustomersVsPrevious":null}',
    });
    expect(stackName).toBe('ClvJobDev');
    expect(props).toEqual({
      alarmEmail: 'ops@example.com',
      scheduleCron: 'cron(0 2 * * ? *)',
      scheduleTimeZone: 'Europe/Paris',
      inputPrefix: 'in/',
      outputPrefix: 'out/',
      athenaResultsPrefix: 'athena/',
      athenaResultsExpiration: Duration.days(3),
      noncurrentVersionExpiration: Duration.days(60),
      ingestedPrefix: 'canonical/',
      quarantinePrefix: 'unreadable/',
      quarantineEmail: 'data@example.com',
      ingestConfig: { columns: { order_id: 'OrderNo' }, csv: { delimiter: ';', decimalSeparator: ',' } },
      ingestMemorySize: 3008,
      ingestHandlerEntry: '/tmp/ingest-handler.ts',
      databaseName: 'clv_dev',
      workgroupName: 'clv-dev',
      bytesScannedCutoffPerQuery: Size.mebibytes(512),
      memorySize: 2048,
      timeout: Duration.seconds(600),
      serviceName: 'clv-dev',
      logRetention: RetentionDays.ONE_YEAR,
      noSuccessWindow: Duration.hours(12),
      handlerEntry: '/tmp/handler.ts',
      modelOptions: { timeUnit: 'day', transactions: 'pnbd', intervalDraws: 200, intervalSeed: 42, horizon: 180, discountRate: 0.08, margin: 0.3, lifespanYears: 5 },
      gates: { maxRejectedShare: 0.05, minCustomersVsPrevious: null },
    });
  });

  it('reads the JSON values of cdk.json: numbers and objects', () => {
    const { props } = settings({ memoryMb: 3008, ingestConfig: { csv: { dateFormat: '%d.%m.%Y' } }, margin: 0.25 });
    expect(props).toEqual({
      memorySize: 3008,
      ingestConfig: { csv: { dateFormat: '%d.%m.%Y' } },
      modelOptions: { margin: 0.25 },
    });
  });

  it('reports every bad value at once', () => {
    let error: unknown;
    try {
      settings({ memoryMb: 'lots', timeoutMinutes: '', logRetentionDays: '10', ingestConfig: { csv: { delimiter: 'tab' } }, alarmEmail: 7, gates: { maxRejectedShare: 2 } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ClvConfigurationError);
    const { problems } = error as ClvConfigurationError;
    expect(problems).toHaveLength(6);
    expect(problems).toEqual(
      expect.arrayContaining([
        'context alarmEmail must be a non-empty string, got 7',
        'context ingestConfig.csv.delimiter: csv.delimiter must be one character',
        expect.stringMatching(/^context gates\.maxRejectedShare: /),
        'context memoryMb must be a whole number, got "lots"',
        'context timeoutMinutes must be a number, got ""',
        'context logRetentionDays must be a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, 60, 90, ..., 3653), got 10',
      ]),
    );
  });

  it('reads only keys that docs/deploy.md documents', () => {
    const deployDoc = readFileSync(new URL('../../docs/deploy.md', import.meta.url), 'utf8');
    const undocumented = Object.keys(CONTEXT_KEYS).filter((key) => !deployDoc.includes(`| \`${key}\``));
    expect(undocumented).toEqual([]);
  });
});
