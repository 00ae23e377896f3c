/**
 * The {@link SmtpTransport} the CLI hands to smtp notifiers: nodemailer's
 * MIME composition (smtp-message.ts) and SMTP delivery (smtp-delivery.ts).
 * Only composition roots import it, so nodemailer stays out of every bundle
 * that cannot send mail.
 */
import { sendSmtp } from './smtp-delivery';
import { composeAlertMail } from './smtp-message';
import type { SmtpTransport } from './smtp-notifier';

export const nodemailerTransport: SmtpTransport = {
  async send(server, mail, alert, opts) {
    let message: Buffer;
    try {
      message = await composeAlertMail(mail, alert, mail.date);
    } catch (err) {
      // Composing is local and its inputs are validated; this only guards against the unforeseen.
      return {
        ok: false,
        status: null,
        attempts: 0,
        error: `internal error: ${err instanceof Error ? err.message : String(err)}`,
        unknownAttempts: 0,
        retryAfterMs: null,
      };
    }
    return sendSmtp(server, mail, message, opts);
  },
};
