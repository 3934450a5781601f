import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseSpendCsv } from '../../lambdas/clv-job/adapters/spend-csv.js';
import { InputFileError } from '../../lambdas/clv-job/errors.js';

const bytes = (text: string): Uint8Array => Buffer.from(text, 'utf8');

describe('reading a spend CSV', () => {
  it('maps columns by header name, numbers records by the line they start on, and keeps short records as malformed', () => {
    // Prepare: BOM, CRLF, columns in another order, an extra column, a blank line, a quoted line break
    const text = '\ufeffMonth, Spend ,channel,note\r\n2025-01,10,email,x\r\n\r\n2025-02,20\r\n2025-03,30,"paid\r\nsocial",y\r\n2025-04,40,search,z\r\n';

    // Act
    const records = parseSpendCsv('spend.csv', bytes(text));

    // Assess
    expect(records.map((r) => [r.line, r.channel, r.month, r.spend, r.wellFormed])).toEqual([
      [2, 'email', '2025-01', '10', true],
      [4, null, '2025-02', '20', false],
      [5, 'paid\r\nsocial', '2025-03', '30', true],
      [7, 'search', '2025-04', '40', true],
    ]);
    expect(records[1]?.text).toBe('2025-02,20');
  });

  it('takes a quote inside an unquoted field as text, so its row is judged and the night goes on, and passes lines of delimiters alone (Excel\'s cleared rows)', () => {
    const text = 'channel,month,spend,notes\nA,2025-01,100,ok\nA,2025-02,150,27" display ads\n,,,\nB,2025-01,1"00,\n , ,\t,\nC,2025-01,5,\n';

    const records = parseSpendCsv('spend.csv', bytes(text));

    expect(records.map((r) => [r.line, r.channel, r.month, r.spend, r.wellFormed])).toEqual([
      [2, 'A', '2025-01', '100', true],
      [3, 'A', '2025-02', '150', true],
      [5, 'B', '2025-01', '1"00', true],
      [7, 'C', '2025-01', '5', true],
    ]);
  });

  it('reads a gzipped spend file by its .gz name', () => {
    const records = parseSpendCsv('spend.csv.gz', gzipSync(bytes('channel,month,spend\nemail,2025-01,10\n')));
    expect(records).toEqual([{ source: 'spend.csv.gz', line: 2, text: 'email,2025-01,10', wellFormed: true, channel: 'email', month: '2025-01', spend: '10' }]);
  });

  it.each([
    ['a header without spend', 'channel,month\nemail,2025-01\n', /spend.csv: has no spend column \(header: channel,month\)/],
    ['an empty file', '', /spend.csv: is empty/],
    [
      'a semicolon-separated file (Excel in a locale with decimal commas), named for it',
      'channel;month;spend\nsearch;2025-02;1.234,50\n',
      /^spend\.csv: looks semicolon-separated \(header: "channel;month;spend"\): a spend file is read comma-separated with a dot before decimals, whatever the config's csv settings/,
    ],
    ['text that is not UTF-8', Buffer.from([0x63, 0x68, 0xff, 0x0a]), /spend.csv: is not UTF-8 text/],
  ] as const)('refuses %s with a message naming the file', (_, content, message) => {
    const run = () => parseSpendCsv('spend.csv', typeof content === 'string' ? bytes(content) : content);
    expect(run).toThrow(InputFileError);
    expect(run).toThrow(message);
  });
});
