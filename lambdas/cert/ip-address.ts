/** IP literals for certificate name matching: the parser and formatter live in core, shared with target parsing. */
export { formatIp, parseIp } from '../core/ip-address';
