/* Configuration drop-ins: PATH.d/ *.conf (see cfg.h). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cfg.h"
#include "cleanup.h"

static int
cfg_dropin_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
cfg_dropins_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

int
cfg_dropins(const char *path, char ***ret)
{
	_cleanup_free_ char *dir = NULL;
	char **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	_cleanup_closedir_ DIR *d = NULL;
	int r = 0;

	*ret = NULL;
	if (asprintf(&dir, "%s.d", path) < 0)
		return -ENOMEM;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
	while ((errno = 0, de = readdir(d))) {
		size_t len = strlen(de->d_name);
		struct stat st;
		char *full;
		if (de->d_name[0] == '.' || len <= 5 || strcmp(de->d_name + len - 5, ".conf") != 0)
			continue;
		/* regular files only (a symlink to one is fine), as journald */
		if (fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (n + 2 > cap) {
			size_t ncap = cap ? 2 * cap : 8;
			char **nv = realloc(v, ncap * sizeof(*v));
			if (!nv) {
				r = -ENOMEM;
				break;
			}
			v = nv;
			cap = ncap;
		}
		if (asprintf(&full, "%s/%s", dir, de->d_name) < 0) {
			r = -ENOMEM;
			break;
		}
		v[n++] = full;
		v[n] = NULL;
	}
	if (r == 0 && errno)
		r = -errno;
	if (r < 0) {
		cfg_dropins_free(v);
		return r;
	}
	if (n)
		qsort(v, n, sizeof(*v), cfg_dropin_cmp);
	*ret = v;
	return 0;
}
