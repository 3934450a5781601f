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

  it('costs a stray quote one row, never the rows after it nor the night: framed as the orders exports are', () => {
    // Prepare: a quote opened at line 3 and never closed; another opened at line 5, closed by nothing either
    const text = 'channel,month,spend\nsearch,2025-01,100\n"partner beta,2025-02,100\nemail,2025-02,50\nsearch,2025-03,"100\naffiliate,2025-03,30\nsearch,2025-04,100\n';

    // Act
    const records = parseSpendCsv('spend.csv', bytes(text));

    // Assess: every data line is a record, the two broken ones not well formed, each on its own line
    expect(records.map((r) => (r.wellFormed ? [r.line, r.channel, r.spend] : [r.line, 'not well formed']))).toEqual([
      [2, 'search', '100'],
      [3, 'not well formed'],
      [4, 'email', '50'],
      [5, 'not well formed'],
      [6, 'affiliate', '30'],
      [7, 'search', '100'],
    ]);
    expect(records[1]?.text).toBe('"partner beta,2025-02,100');
  });

  it('numbers the lines of a file that ends them with carriage returns alone (a classic Mac file)', () => {
    const records = parseSpendCsv('spend.csv', bytes('channel,month,spend\remail,2025-01,10\rsearch,2025-01,x\r'));
    expect(records.map((r) => [r.line, r.spend])).toEqual([
      [2, '10'],
      [3, 'x'],
    ]);
  });

  it('reads gzip by its first bytes, whatever the name, and says a cut-short one is incomplete', () => {
    const gzipped = gzipSync(bytes('channel,month,spend\nemail,2025-01,10\n'));
    expect(parseSpendCsv('spend.csv', gzipped).map((r) => r.spend)).toEqual(['10']);
    expect(() => parseSpendCsv('spend.csv.gz', gzipped.subarray(0, gzipped.length - 12))).toThrow(/spend.csv.gz: is not a complete gzip file \(unexpected end of file\)/);
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
    ['a header naming spend twice', 'channel,month,spend, Spend\nsearch,2025-01,100,5\n', /spend.csv: has the column "spend" twice \(header: "channel,month,spend, Spend"\): which one to read is not clear/],
    ['a header whose quote is never closed', '"channel,month,spend\nsearch,2025-01,100\n', /spend.csv: has a header that cannot be read/],
  ] as const)('refuses %s with a message naming the file', (_, content, message) => {
    const run = () => parseSpendCsv('spend.csv', typeof content === 'string' ? bytes(content) : content);
    expect(run).toThrow(InputFileError);
    expect(run).toThrow(message);
  });
});
