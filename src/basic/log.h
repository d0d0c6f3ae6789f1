/* Diagnostics to stderr with sd-daemon "<N>" priority prefixes
 * (sd-daemon(3)), so journald files each line at its level. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <syslog.h>

void log_set_max_level(int level);
void log_set_prefix(bool with_priority);
/* On a terminal showing a live status line (seglog ship): each message
 * first clears that line, so it does not run on after it. */
void log_set_clear_line(bool clear);

/* Logs at priority; if error is non-zero, errno is set to its absolute value
 * while formatting so "%m" names it.  Returns -abs(error) (or 0). */
int log_internal(int priority, int error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_debug(...) log_internal(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_internal(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_internal(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_internal(LOG_ERR, 0, __VA_ARGS__)
#define log_warning_errno(e, ...) log_internal(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...) log_internal(LOG_ERR, (e), __VA_ARGS__)
#define log_crit_errno(e, ...) log_internal(LOG_CRIT, (e), __VA_ARGS__)
