/** Public surface of the notify module: rendering, delivery and routing of alerts to channels. */
export { type AlertView, viewAlert } from './alert-view';
export { type DeliverOptions, deliverAlerts, routesTo } from './deliver-alerts';
export { type PostJsonOptions, type PostResult, postJson, redactUrl } from './http-delivery';
export { createNotifier, type Notifier, NotifierConfigError, type NotifierDeps } from './notifiers';
export { renderSlackMessage, type SlackMessage } from './render-slack';
export { parseSnsAlertEnvelope } from './parse-sns-envelope';
export { renderSnsPublish, type SnsAlertEnvelope } from './render-sns';
export { renderTeamsMessage, type TeamsMessage } from './render-teams';
export {
  DEFAULT_SIGNATURE_HEADER,
  renderWebhookRequest,
  signWebhookBody,
  verifyWebhookSignature,
  type WebhookPayload,
  type WebhookVerification,
} from './render-webhook';
export { makeTestAlert, TEST_ALERT_SUMMARY } from './test-alert';
