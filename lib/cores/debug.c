/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * gdb on a stored core: decompressed into an unlinked file that gdb opens as
 * /proc/self/fd/N, so nothing is left behind even when we are killed
 * (mkstemp, unlinked at the end, where O_TMPFILE is refused).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "cores/cores.h"

struct tmp_core {
	int fd;
	char *path;		/* what gdb opens */
	bool named;		/* mkstemp: unlink at the end */
};

static struct ck_error *tmp_core_open(struct tmp_core *t)
{
	const char *tmpdir = getenv("TMPDIR");
	if (!tmpdir || !*tmpdir)
		tmpdir = "/var/tmp";
	*t = (struct tmp_core){ .fd = open(tmpdir, O_TMPFILE | O_RDWR, 0600) };
	if (t->fd >= 0) {
		if (asprintf(&t->path, "/proc/self/fd/%d", t->fd) < 0)
			t->path = NULL;
	} else {
		if (asprintf(&t->path, "%s/crashkit-core.XXXXXX", tmpdir) < 0)
			t->path = NULL;
		t->fd = t->path ? mkstemp(t->path) : -1;
		t->named = true;
	}
	if (!t->path && t->fd >= 0) {
		close(t->fd);
		t->fd = -1;
	}
	if (t->fd < 0)
		return ck_error_create_errno(errno, "temporary core");
	return NULL;
}

static void tmp_core_close(struct tmp_core *t)
{
	if (t->fd >= 0) {
		if (t->named)
			unlink(t->path);
		close(t->fd);
	}
	free(t->path);
}

/* gdb [-batch] [-ex CMD]... [EXE] -c CORE: the exe first, so gdb needs no
 * guessing. */
static const char **gdb_argv(const char *exe, const char *core, const char *const *cmds,
			     size_t nr_cmds)
{
	const char **argv = ck_calloc_array(nr_cmds * 2 + 8, sizeof(*argv));
	if (!argv)
		return NULL;
	size_t g = 0;
	argv[g++] = "gdb";
	argv[g++] = "-q";
	if (nr_cmds)
		argv[g++] = "-batch";
	for (size_t k = 0; k < nr_cmds; k++) {
		argv[g++] = "-ex";
		argv[g++] = cmds[k];
	}
	if (exe[0] == '/' && access(exe, R_OK) == 0)
		argv[g++] = exe;
	argv[g++] = "-c";
	argv[g++] = core;
	return argv;
}

static struct ck_error *run_gdb(const char **argv, ck_core_log_fn *log, void *log_arg)
{
	pid_t pid = fork();
	if (pid == 0) {
		execvp("gdb", (char **)argv);
		ck_core_logf(log, log_arg, 3, "running gdb: %s", strerror(errno));
		_exit(127);
	}
	if (pid < 0)
		return ck_error_create_errno(errno, "fork");
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return ck_error_create(CK_ERR_OS, "gdb exited with status %d",
				       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return NULL;
}

struct ck_error *ck_core_debug(const char *store, const struct ck_core_record *rec,
			       const char *const *gdb_cmds, size_t nr_cmds, ck_core_log_fn *log,
			       void *log_arg)
{
	struct tmp_core t;
	struct ck_error *err = tmp_core_open(&t);
	if (!err)
		err = ck_core_extract(store, rec, t.fd, true);
	if (err && ck_error_code(err) == CK_ERR_TRUNCATED) {
		/* A cut core still has its notes and most stacks. */
		ck_core_logf(log, log_arg, 4, "%s", ck_error_message(err));
		ck_error_destroy(err);
		err = NULL;
	}
	if (!err) {
		const char **argv = gdb_argv(rec->exe, t.path, gdb_cmds, nr_cmds);
		err = argv ? run_gdb(argv, log, log_arg) : &ck_error_nomem;
		free(argv);
	}
	tmp_core_close(&t);
	return err;
}
