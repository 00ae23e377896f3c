/**
 * Every protocol the probe speaks, by name: the one list the probe looks a
 * configured protocol up in. Adding a protocol is one module in ./protocols and
 * one line here; its name and default port go in core's PROBE_PROTOCOLS, and a
 * name on either side without the other does not compile.
 */
import { DEFAULT_PROBE_PROTOCOL, isProbeProtocolName, type ProbeProtocolName } from '../core/model';
import type { ProbeProtocol } from './protocol-step';
import { ftpAuthTls } from './protocols/ftp';
import { imapStartTls } from './protocols/imap';
import { implicitTls } from './protocols/implicit-tls';
import { ldapStartTls } from './protocols/ldap';
import { mysqlSsl } from './protocols/mysql';
import { pop3Stls } from './protocols/pop3';
import { postgresSslRequest } from './protocols/postgres';
import { smtpStartTls } from './protocols/smtp';
import { xmppStartTls } from './protocols/xmpp';

export const PROBE_PROTOCOL_REGISTRY = {
  tls: implicitTls('tls'),
  https: implicitTls('https'),
  smtps: implicitTls('smtps'),
  smtp: smtpStartTls('smtp'),
  submission: smtpStartTls('submission'),
  imaps: implicitTls('imaps'),
  imap: imapStartTls('imap'),
  pop3s: implicitTls('pop3s'),
  pop3: pop3Stls('pop3'),
  ftp: ftpAuthTls('ftp'),
  ldaps: implicitTls('ldaps'),
  ldap: ldapStartTls('ldap'),
  postgres: postgresSslRequest('postgres'),
  mysql: mysqlSsl('mysql'),
  xmpp: xmppStartTls('xmpp', 'client'),
  'xmpp-server': xmppStartTls('xmpp-server', 'server'),
} as const satisfies { readonly [Name in ProbeProtocolName]: ProbeProtocol & { readonly name: Name } };

/**
 * The implementation of `name`; undefined for a name this build does not know (an inventory
 * written by a newer version, say), which the probe reports rather than guessing.
 */
export function probeProtocol(name: string = DEFAULT_PROBE_PROTOCOL): ProbeProtocol | undefined {
  return isProbeProtocolName(name) ? PROBE_PROTOCOL_REGISTRY[name] : undefined;
}
