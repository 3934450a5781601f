import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Notifier } from '../ports.js';

/** SNS limits a subject to 100 printable ASCII characters, no line break. */
const subjectLine = (subject: string): string => {
  const ascii = subject.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length <= 100 ? ascii : `${ascii.slice(0, 97)}...`;
};

/** SNS takes a message of 256 KB at most: a longer one fails the publish, and no one is told. */
export const MAX_MESSAGE_BYTES = 256 * 1024;
const CUT_NOTE = '\n... (cut: SNS takes 256 KB at most)';

/** The message as SNS takes it: cut on a character boundary, with a note, when over MAX_MESSAGE_BYTES. */
export const messageBody = (message: string): string => {
  const bytes = Buffer.from(message);
  if (bytes.length <= MAX_MESSAGE_BYTES) return message;
  // decoding a cut mid-character leaves U+FFFD at the end: dropped
  const kept = bytes.subarray(0, MAX_MESSAGE_BYTES - Buffer.byteLength(CUT_NOTE)).toString('utf8').replace(/\uFFFD+$/, '');
  return kept + CUT_NOTE;
};

/** Publishes to one SNS topic (e-mail, chat or queue subscribers). */
export class SnsNotifier implements Notifier {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async notify(subject: string, message: string): Promise<void> {
    await this.client.send(new PublishCommand({ TopicArn: this.topicArn, Subject: subjectLine(subject), Message: messageBody(message) }));
  }
}
