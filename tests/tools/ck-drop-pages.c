/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ck-drop-pages: a copy of a kdump-compressed dump without the pages that
 * hold some kernel virtual addresses, as if the dump filter had excluded
 * them (their bit in the 2nd bitmap cleared, their page descriptor
 * removed; the page data stays where it is, unreferenced).  The lab tests
 * use it to make a dump whose panic stack, or whose module list, is
 * missing, and check that triage says what it could not read.
 *
 * usage: ck-drop-pages DUMP OUT VADDR[:BYTES]...
 *   VADDR in hex (with or without 0x), BYTES decimal (default 1: the page
 *   holding VADDR).  Prints one "dropped pfn 0x..." line per page.
 * Exit status: 0, 1 when nothing was dropped, 2 on usage or I/O errors.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crashkit.h"
#include "dump/kdump_format.h"

#define MAX_PFNS 4096

static int die(const char *what, struct ck_error *err)
{
	fprintf(stderr, "ck-drop-pages: %s%s%s\n", what, err ? ": " : "",
		err ? ck_error_message(err) : "");
	ck_error_destroy(err);
	return 2;
}

static bool bit(const uint8_t *bm, uint64_t pfn)
{
	return bm[pfn / 8] >> (pfn % 8) & 1;
}

/* The pfns the arguments name (sorted, unique) into pfns; their count. */
static int collect(const char *path, int argc, char **argv, uint64_t *pfns, size_t *nr)
{
	struct ck_dump *dump;
	struct ck_kernel *kernel;
	struct ck_error *err = ck_dump_open(path, &dump);
	if (err)
		return die(path, err);
	if ((err = ck_kernel_create(dump, &kernel))) {
		ck_dump_destroy(dump);
		return die(path, err);
	}
	*nr = 0;
	for (int i = 0; i < argc; i++) {
		char *end;
		uint64_t va = strtoull(argv[i], &end, 16), len = 1;
		if (*end == ':')
			len = strtoull(end + 1, &end, 10);
		if (*end || !len || len > (1u << 24)) {
			fprintf(stderr, "ck-drop-pages: bad address: %s\n", argv[i]);
			return 2;
		}
		for (uint64_t p = va & ~4095ull; p < va + len && *nr < MAX_PFNS; p += 4096) {
			uint64_t pa;
			if ((err = ck_kernel_virt_to_phys(kernel, p, &pa)))
				return die(argv[i], err);
			pfns[(*nr)++] = pa >> 12;
		}
	}
	ck_kernel_destroy(kernel);
	ck_dump_destroy(dump);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static uint64_t pfns[MAX_PFNS];
	size_t nr = 0;
	if (argc < 4) {
		fprintf(stderr, "usage: ck-drop-pages DUMP OUT VADDR[:BYTES]...\n");
		return 2;
	}
	int rc = collect(argv[1], argc - 3, argv + 3, pfns, &nr);
	if (rc)
		return rc;
	qsort(pfns, nr, sizeof(pfns[0]), cmp_u64);

	FILE *f = fopen(argv[1], "rb");
	if (!f || fseek(f, 0, SEEK_END))
		return die(argv[1], NULL);
	long size = ftell(f);
	uint8_t *buf = size > 0 ? malloc((size_t)size) : NULL;
	if (!buf || fseek(f, 0, SEEK_SET) || fread(buf, 1, (size_t)size, f) != (size_t)size)
		return die(argv[1], NULL);
	fclose(f);

	struct ck_kdump_header h;
	memcpy(&h, buf, sizeof(h));
	if (memcmp(h.signature, CK_KDUMP_SIGNATURE, CK_KDUMP_SIG_LEN) || h.block_size != 4096)
		return die("not a kdump-compressed dump with 4 KiB blocks", NULL);
	uint64_t bs = 4096, half = (uint64_t)h.bitmap_blocks * bs / 2;
	uint64_t bm2_off = (1 + (uint64_t)h.sub_hdr_size) * bs + half;
	uint64_t desc_off = (1 + (uint64_t)h.sub_hdr_size + h.bitmap_blocks) * bs;
	if (desc_off > (uint64_t)size)
		return die("headers point past the end of the file", NULL);
	uint8_t *bm2 = buf + bm2_off;
	uint64_t max_pfn = half * 8;
	/* a pfn's descriptor is the rank of its bit among the set bits */
	uint64_t nr_desc = 0, dropped = 0;
	for (uint64_t p = 0; p < max_pfn; p++)
		nr_desc += bit(bm2, p);
	if (desc_off + nr_desc * sizeof(struct ck_kdump_page_desc) > (uint64_t)size)
		return die("descriptors past the end of the file", NULL);
	struct ck_kdump_page_desc *d = (void *)(buf + desc_off);
	uint64_t rank = 0, out = 0;
	size_t k = 0;
	for (uint64_t p = 0; p < max_pfn; p++) {
		if (!bit(bm2, p))
			continue;
		while (k < nr && pfns[k] < p)
			k++;
		if (k < nr && pfns[k] == p) {
			bm2[p / 8] &= (uint8_t)~(1u << (p % 8));
			printf("dropped pfn 0x%" PRIx64 "\n", p);
			dropped++;
		} else {
			memmove(&d[out++], &d[rank], sizeof(*d));
		}
		rank++;
	}
	memset(&d[out], 0, (nr_desc - out) * sizeof(*d));
	f = fopen(argv[2], "wb");
	if (!f || fwrite(buf, 1, (size_t)size, f) != (size_t)size || fclose(f))
		return die(argv[2], NULL);
	free(buf);
	return dropped ? 0 : 1;
}
