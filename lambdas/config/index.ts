/** certwatch configuration: parse and validate `certwatch.config.yaml`, then resolve it for the pipeline. */
export {
  BUILTIN_DEFAULTS,
  type CertwatchConfig,
  type ChannelConfig,
  type ConfigDefaults,
  type EndpointConfig,
  type EndpointProbeConfig,
  type MaintenanceConfig,
  type PolicySettings,
  type SourcePosition,
  type SubscriptionConfig,
  type VpcConfig,
} from './certwatch-config';
export { ConfigError, type ConfigIssue, formatConfigIssue } from './config-error';
export { checkAlertUrl } from './schema-fields';
export { formatDuration, parseDuration } from './duration';
export { loadConfig, type ParseConfigOptions, parseConfig } from './parse-config';
export {
  resolveChannels,
  resolveEndpoints,
  resolveHeartbeatUrl,
  resolveTrustProfiles,
} from './resolve-config';
export {
  clientKeyReader,
  envSecretResolver,
  formatSecretRef,
  parseSecretRef,
  type SecretRef,
  SecretRefError,
  type SecretResolver,
} from './secret-ref';
