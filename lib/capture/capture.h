/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The capture walk's internal pieces: shared by capture.c, split.c and
 * mem_usage.c.  The public side (ck_capture, ck_mem_usage, split dumps) is
 * in include/crashkit.h.
 */
#ifndef CRASHKIT_CAPTURE_H
#define CRASHKIT_CAPTURE_H

#include "walk/walk.h"

/* The 2nd bitmap of every cycle of input, as a capture at dump_level
 * builds it (pages present, minus what the filter excludes), handed to fn
 * in pfn order: bit i of bm2 stands for pfn start + i.  *max_pfn_ret and
 * *page_size_ret are the dump's, set before the first call.  For planning
 * split dumps. */
struct ck_error *ck_capture_walk_dumpable(const char *input, int dump_level,
					  uint64_t cycle_pfns,
					  struct ck_error *(*fn)(void *arg, uint64_t start,
								 uint64_t end,
								 const uint64_t *bm2),
					  void *arg, uint64_t *max_pfn_ret,
					  uint32_t *page_size_ret);

#endif /* CRASHKIT_CAPTURE_H */
