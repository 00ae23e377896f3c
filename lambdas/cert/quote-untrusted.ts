/**
 * How certificate parsing renders untrusted text (DN values, time strings, URLs
 * a server sent) for messages and display: the one untrusted-text rule set.
 */
export { displaySafe, quoteUntrusted } from '../core/untrusted-text';
