/**
 * The e-mail of one alert: the SNS e-mail's ASCII subject and plain-text body
 * (lambdas/notify/render-sns.ts), as a MIME message built by nodemailer, which
 * does the encoding (UTF-8 quoted-printable or base64, folded headers) right.
 *
 * Every copy of an alert carries the same `Message-ID` (derived from the alert
 * id) and an `X-Certwatch-Alert-Id` header, the e-mail counterparts of the
 * HTTP channels' `Idempotency-Key`: a mail system or a filter can drop the
 * extra copy an unknown outcome may cause. `Auto-Submitted: auto-generated`
 * (RFC 3834) keeps vacation replies away from the sender.
 */
import { createHash } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { Alert } from '../core/model';
import { cleanUntrusted } from '../core/untrusted-text';
import { renderSnsEmail, renderSnsSubject } from '../notify/render-sns';
import type { SmtpChannel } from './smtp-channel';

/** The header that names the alert a mail is about (its value is the alert id). */
export const ALERT_ID_HEADER = 'X-Certwatch-Alert-Id';

/** `<hash.certwatch@domain of from>`: the same for every copy of one alert, different for every alert. */
export function messageIdFor(alertId: string, from: string): string {
  const hash = createHash('sha256').update(alertId).digest('hex').slice(0, 32);
  return `<${hash}.certwatch@${from.slice(from.lastIndexOf('@') + 1)}>`;
}

/** The complete RFC 5322 message for one alert, dated `date`. */
export async function composeAlertMail(
  channel: Pick<SmtpChannel, 'from' | 'to'>,
  alert: Alert,
  date: Date,
): Promise<Buffer> {
  const composer = new MailComposer({
    from: channel.from,
    to: [...channel.to],
    subject: renderSnsSubject(alert),
    text: renderSnsEmail(alert),
    messageId: messageIdFor(alert.id, channel.from),
    date,
    headers: {
      // Alert ids are certwatch's own and printable ASCII; the quote target keeps it so, whatever.
      [ALERT_ID_HEADER]: cleanUntrusted(alert.id, { target: 'quote', maxLength: 500 }),
      'Auto-Submitted': 'auto-generated',
    },
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return composer.compile().build();
}
