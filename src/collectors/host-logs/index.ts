// Host logs: text syslog family, auth.log, audit.log, wtmp/btmp/utmp, shell histories, and the host time zone.
export { authLogCollector, syslogCollector, syslogFileSource, parseSyslogBytes, SyslogSink, YearTracker } from './syslog.js';
export { auditCollector, auditFileSource, parseAuditBytes, parseAuditLine } from './audit.js';
export { utmpCollector, utmpFileSource, parseUtmpBytes, parseUtmpRecord, UTMP } from './utmp.js';
export { shellHistoryCollector, historyFileSource, parseHistoryBytes } from './shell-history.js';
export { parseSyslogLine } from './syslog-parse.js';
export { parseAuthMessage, containerCommand } from './auth-parse.js';
export { hostZone, resolveHostZone, LocalTimeConverter, type HostZone, type TzSource } from './timezone.js';
export { parseTzif, parsePosixTz, TzifZone, PosixZone, FixedZone, IntlZone, TzifError } from './tzif.js';
export { daemonEventFromMessage, type DaemonEvent } from '../daemon-events/daemon-events.js';
