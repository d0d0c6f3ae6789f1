/* The pager of seglog cat/tail (see pager.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "pager.h"

/* The command to run, or NULL for none. */
static const char *
pager_command(void)
{
	const char *cmd = getenv("SEGLOG_PAGER");

	if (!cmd)
		cmd = getenv("PAGER");
	if (!cmd)
		cmd = "less";
	if (!*cmd || strcmp(cmd, "cat") == 0)
		return NULL;
	return cmd;
}

int
pager_open(struct pager *p)
{
	_cleanup_close_ int rfd = -EBADF, wfd = -EBADF;
	const char *cmd;
	int fds[2];
	pid_t pid;

	p->pid = 0;
	if (!isatty(STDOUT_FILENO) || !(cmd = pager_command()))
		return 0;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	rfd = fds[0];
	wfd = fds[1];
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* the pager: reads the pipe, writes the terminal */
		if (dup2(rfd, STDIN_FILENO) < 0)
			_exit(127);
		setenv("LESS", "FRSX", 0);
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		fprintf(stderr, "seglog: cannot run the pager '%s': %m\n", cmd);
		_exit(127);
	}
	rfd = safe_close(rfd);
	if (dup2(wfd, STDOUT_FILENO) < 0) {
		int e = errno;
		kill(pid, SIGTERM);
		(void)waitpid(pid, NULL, 0);
		return -e;
	}
	p->pid = pid;
	return 0;
}

void
pager_close(struct pager *p)
{
	if (p->pid <= 0)
		return;
	fflush(stdout);
	close(STDOUT_FILENO); /* end of input: the pager shows the rest, then exits */
	while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
		;
	p->pid = 0;
}
