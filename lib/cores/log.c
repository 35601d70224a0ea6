/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The log of the pipe handler and the socket receiver.  Neither has a
 * terminal (the kernel starts the handler with no environment, the receiver
 * runs detached), so every message also goes to the kernel log.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cores/cores.h"

void ck_core_log_kmsg(void *arg, int level, const char *msg)
{
	FILE *stream = arg;
	char clean[512];
	/* One line each: a message may quote what a crashed program chose. */
	snprintf(clean, sizeof(clean), "%s", msg);
	for (char *p = clean; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	if (stream)
		fprintf(stream, "crashkit cores handle: %s\n", clean);
	_cleanup_close_ int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return;
	char line[600];
	int n = snprintf(line, sizeof(line), "<%d>crashkit-cores: %s\n", level, clean);
	if (n > 0 && write(fd, line, CK_MIN((size_t)n, sizeof(line) - 1)) < 0)
		return;	/* nowhere left to say it */
}

void ck_core_logf(ck_core_log_fn *log, void *log_arg, int level, const char *fmt, ...)
{
	if (!log)
		return;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log(log_arg, level, msg);
}
