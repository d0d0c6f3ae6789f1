#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "notify.h"

enum {
	NOTIFY_MAX_FDS = 8,
};

static int listen_n;
static char **listen_names;
static bool listen_claimed[NOTIFY_MAX_FDS];

int
notify(const char *state)
{
#ifdef HAVE_SYSTEMD
	return sd_notify(0, state);
#else
	(void)state;
	return 0;
#endif
}

int
notify_printf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return notify(buf);
}

uint64_t
notify_watchdog_usec(void)
{
#ifdef HAVE_SYSTEMD
	uint64_t usec = 0;
	if (sd_watchdog_enabled(0, &usec) > 0)
		return usec;
#endif
	return 0;
}

int
notify_listen_fds(void)
{
#ifdef HAVE_SYSTEMD
	listen_n = sd_listen_fds_with_names(1, &listen_names);
	if (listen_n < 0)
		return listen_n;
	if (listen_n > NOTIFY_MAX_FDS)
		return -E2BIG;
	return listen_n;
#else
	return 0;
#endif
}

int
notify_listen_fd(const char *name)
{
#ifdef HAVE_SYSTEMD
	for (int i = 0; i < listen_n; i++)
		if (listen_names && listen_names[i] && strcmp(listen_names[i], name) == 0) {
			listen_claimed[i] = true;
			return SD_LISTEN_FDS_START + i;
		}
#endif
	(void)name;
	return -ENOENT;
}

const char *
notify_unclaimed_name(void)
{
	for (int i = 0; i < listen_n; i++)
		if (!listen_claimed[i])
			return listen_names && listen_names[i] ? listen_names[i] : "unknown";
	return NULL;
}

bool
notify_is_unix_socket(int fd, int type)
{
#ifdef HAVE_SYSTEMD
	return sd_is_socket_unix(fd, type, type == SOCK_STREAM ? 1 : -1, NULL, 0) > 0;
#else
	(void)fd;
	(void)type;
	return false;
#endif
}
