/* Runs one fuzz target, linked without libFuzzer, over files: every file
 * of tests/fuzz/corpus/NAME/ and tests/fuzz/regress/NAME/ by default, or
 * the files and directories given as arguments.  `make check` runs it for
 * each target (tests/fuzz/replay_NAME), so inputs that once crashed stay
 * fixed on machines without clang.  Exits 1 when it found no input at
 * all (a corpus missing from the tarball); a failing input aborts. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "fuzz.h"

#ifndef FUZZ_NAME
#error "compile with -DFUZZ_NAME=\"target\""
#endif

static unsigned long replay_count;

static int
replay_file(const char *path)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ uint8_t *buf = NULL;
	struct stat st;
	size_t n;

	if (!f || fstat(fileno(f), &st) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	buf = fuzz_alloc((size_t)st.st_size);
	n = fread(buf, 1, (size_t)st.st_size, f);
	if (n != (size_t)st.st_size) {
		fprintf(stderr, "replay: %s: short read\n", path);
		return -1;
	}
	/* exactly n bytes, as libFuzzer passes them */
	_cleanup_free_ uint8_t *exact = fuzz_dup(buf, n);
	fprintf(stderr, "replay " FUZZ_NAME ": %s\n", path);
	LLVMFuzzerTestOneInput(exact, n);
	replay_count++;
	return 0;
}

static int
replay_dir_entry_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A file, or every regular file in a directory (not recursive; sorted,
 * so runs are reproducible).  A missing directory counts as empty. */
static int
replay_path(const char *path, bool must_exist)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct stat st;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int r = 0;

	if (stat(path, &st) < 0) {
		if (!must_exist && errno == ENOENT)
			return 0;
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path);
	d = opendir(path);
	if (!d) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			names = realloc(names, cap * sizeof(*names));
			FUZZ_CHECK(names);
		}
		FUZZ_CHECK(asprintf(&names[n], "%s/%s", path, de->d_name) >= 0);
		n++;
	}
	if (n)
		qsort(names, n, sizeof(*names), replay_dir_entry_cmp);
	for (size_t i = 0; i < n; i++) {
		if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode) && replay_file(names[i]) < 0)
			r = -1;
		free(names[i]);
	}
	free(names);
	return r;
}

int
main(int argc, char **argv)
{
	int r = 0;

	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			if (replay_path(argv[i], true) < 0)
				r = -1;
	} else {
		const char *top = getenv("top_srcdir");
		_cleanup_free_ char *corpus = NULL, *regress = NULL;

		if (!top)
			top = FUZZ_SRCDIR;
		FUZZ_CHECK(asprintf(&corpus, "%s/tests/fuzz/corpus/" FUZZ_NAME, top) >= 0);
		FUZZ_CHECK(asprintf(&regress, "%s/tests/fuzz/regress/" FUZZ_NAME, top) >= 0);
		if (replay_path(corpus, true) < 0 || replay_path(regress, false) < 0)
			r = -1;
	}
	printf("replay " FUZZ_NAME ": %lu inputs\n", replay_count);
	if (r < 0 || replay_count == 0)
		return EXIT_FAILURE;
	return EXIT_SUCCESS;
}
