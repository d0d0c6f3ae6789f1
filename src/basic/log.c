#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

static int log_max_level = LOG_INFO;
static bool log_with_priority = true;
static bool log_clear_line;

void
log_set_max_level(int level)
{
	log_max_level = level;
}

void
log_set_prefix(bool with_priority)
{
	log_with_priority = with_priority;
}

void
log_set_clear_line(bool clear)
{
	log_clear_line = clear;
}

int
log_internal(int priority, int error, const char *fmt, ...)
{
	int saved = errno;
	int e = error < 0 ? -error : error;
	va_list ap;

	if (priority <= log_max_level) {
		char buf[2048];
		errno = e;
		va_start(ap, fmt);
		vsnprintf(buf, sizeof(buf), fmt, ap);
		va_end(ap);
		if (log_clear_line)
			fputs("\r\033[K", stderr);
		if (log_with_priority)
			fprintf(stderr, "<%d>%s\n", priority, buf);
		else
			fprintf(stderr, "%s\n", buf);
	}
	errno = saved;
	return -e;
}
