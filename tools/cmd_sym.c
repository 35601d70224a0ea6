/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crashkit sym: kernel symbols by name or address, from the dump's kallsyms. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tools.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: crashkit sym DUMP NAME|ADDRESS...\n"
		   "\n"
		   "Looks up kernel symbols in the kallsyms tables the dump carries (Linux 6.0+).\n"
		   "A NAME prints its address; an ADDRESS (0x... or 16 hex digits) prints the\n"
		   "symbol that contains it as name+0xoffset.  Addresses are KASLR-relocated, as\n"
		   "the crashed kernel saw them.\n"
		   "\n"
		   "  -h, --help    this text; --version: crashkit's version\n");
}

/* An argument is an address if it says so with 0x, or if it is a full-width
 * hex number; otherwise a name (a symbol like "add" is valid hex too). */
static bool parse_address(const char *s, uint64_t *ret)
{
	unsigned long long v;
	if ((!strncmp(s, "0x", 2) || !strncmp(s, "0X", 2)) && ck_parse_u64(s + 2, 16, &v)) {
		*ret = v;
		return true;
	}
	if (strlen(s) >= 8 && ck_parse_u64(s, 16, &v)) {
		*ret = v;
		return true;
	}
	return false;
}

static struct ck_error *lookup(struct ck_kernel *kernel, const char *arg)
{
	struct ck_symbol sym;
	uint64_t addr;
	struct ck_error *err;

	if (parse_address(arg, &addr)) {
		err = ck_kernel_symbol_by_address(kernel, addr, &sym);
		if (err)
			return err;
		if (addr == sym.address)
			printf("%016" PRIx64 " (%c) %s\n", addr, sym.type, sym.name);
		else
			printf("%016" PRIx64 " (%c) %s+0x%" PRIx64 "\n", addr, sym.type, sym.name,
			       addr - sym.address);
		return NULL;
	}
	err = ck_kernel_symbol_by_name(kernel, arg, &sym);
	if (err)
		return err;
	printf("%016" PRIx64 " (%c) %s\n", sym.address, sym.type, sym.name);
	return NULL;
}

int ck_cmd_sym(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int c;
	optind = 0;	/* options anywhere, as GNU getopt permutes them */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout); return CK_EXIT_OK;
		case 'V': return ck_print_version();
		default: return ck_getopt_error("sym", c, argv);
		}
	}
	if (argc - optind < 2)
		return ck_usage_error("sym", "expected a DUMP and at least one NAME or ADDRESS");

	struct ck_dump *dump;
	struct ck_kernel *kernel;
	const struct ck_open_opts oo = { .kernel = true, .warn = ck_warn_cb };
	struct ck_error *err = ck_open((const char *const *)argv + optind, 1, &oo, &dump, &kernel);
	if (err)
		return ck_report(err);
	int ret = CK_EXIT_OK;
	for (int i = optind + 1; i < argc; i++) {
		err = lookup(kernel, argv[i]);
		if (err)
			ret = ck_report(err);	/* go on with the other arguments */
	}
	if (fflush(stdout))
		ret = CK_EXIT_ERROR;
	ck_kernel_destroy(kernel);
	ck_dump_destroy(dump);
	return ret;
}
