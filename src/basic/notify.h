/* The systemd seam (sd-daemon(3)): readiness and status notifications and
 * socket activation.  Built on libsystemd when configure found it
 * (--with-systemd); otherwise every call is a no-op and no descriptors
 * are ever inherited. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

int notify(const char *state);
int notify_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The watchdog interval systemd asked for (WATCHDOG_USEC), 0 if none. */
uint64_t notify_watchdog_usec(void);

/* Inherited listening sockets: returns the descriptor passed with
 * FileDescriptorName=name, or -ENOENT.  notify_listen_fds() must be called
 * once first; it returns how many descriptors were passed. */
int notify_listen_fds(void);
int notify_listen_fd(const char *name);
/* Names of passed descriptors nobody claimed (for a clear error). */
const char *notify_unclaimed_name(void);
/* Checks that fd is a Unix socket of the given type (SOCK_STREAM or
 * SOCK_DGRAM) that listens where it should. */
bool notify_is_unix_socket(int fd, int type);
