/* A pager for seglog cat/tail on a terminal, as journalctl(1) has one:
 * $SEGLOG_PAGER, else $PAGER, else "less" with LESS=FRSX unless $LESS is
 * set (quit if one screen, raw colours, chop long lines, no init).  An
 * empty value or "cat" means none.  stdout is redirected into the pager;
 * pager_close() closes it and waits, so the shell prompt returns only
 * after the pager did. */
#pragma once

#include <sys/types.h>

struct pager {
	pid_t pid; /* 0: no pager runs */
};

#define PAGER_INIT { .pid = 0 }

/* Starts the pager if stdout is a terminal; 0 (also when none is used)
 * or -errno. */
int pager_open(struct pager *p);
/* Flushes and closes stdout into the pager and waits for it. */
void pager_close(struct pager *p);
