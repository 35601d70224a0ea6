/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Facts about the crashed kernel that every front-end asks for, decoded
 * here once: its utsname, the CPU that panicked, the crash time and the
 * kernel image's physical load offset.  `crashkit info` prints them, the
 * capture writes them into the kdump header, and the analysis commands
 * will build on them; none of those decodes them itself.
 */
#include <inttypes.h>
#include <string.h>

#include "kernel/kernel.h"

/* struct new_utsname (include/uapi/linux/utsname.h): six char[65] fields. */
#define UTS_FIELD_LEN 65
#define UTS_NR_FIELDS 6

/*
 * Where the name sits in struct uts_namespace.  VMCOREINFO says so since
 * `kdump: append uts_namespace.name offset to VMCOREINFO` (Linux 5.11),
 * which came with `uts: Use generic ns_common::count` moving the reference
 * count out from in front of the name.  Before that the struct began with
 * its struct kref (one 32-bit refcount), so the name followed it: a missing
 * key is the older layout.
 */
#define UTS_NAME_OFFSET_BEFORE_5_11 4

static struct ck_error *uts_name_offset(const struct ck_kernel *kernel, uint64_t *ret)
{
	static const char key[] = "OFFSET(uts_namespace.name)";
	if (!ck_kernel_vmcoreinfo_str(kernel, key)) {
		*ret = UTS_NAME_OFFSET_BEFORE_5_11;
		return NULL;
	}
	return ck_kernel_vmcoreinfo_u64(kernel, key, ret);
}

struct ck_error *ck_kernel_utsname(struct ck_kernel *kernel, struct ck_utsname *ret)
{
	uint64_t addr, off;
	struct ck_error *err = ck_kernel_vmcoreinfo_u64(kernel, "SYMBOL(init_uts_ns)", &addr);
	if (!err)
		err = uts_name_offset(kernel, &off);
	if (err)
		return ck_error_prepend(err, "utsname");
	char name[UTS_NR_FIELDS][UTS_FIELD_LEN];
	err = ck_kernel_read(kernel, addr + off, name, sizeof(name));
	if (err)
		return ck_error_prepend(err, "utsname");
	/* The kernel keeps them terminated; a damaged dump need not. */
	char *out[UTS_NR_FIELDS] = {
		ret->sysname, ret->nodename, ret->release,
		ret->version, ret->machine, ret->domainname,
	};
	for (int i = 0; i < UTS_NR_FIELDS; i++) {
		memcpy(out[i], name[i], UTS_FIELD_LEN - 1);
		out[i][UTS_FIELD_LEN - 1] = '\0';
	}
	return NULL;
}

/*
 * panic_cpu is PANIC_CPU_INVALID (-1) until panic() or crash_kexec() claims
 * it, so a dump of a running machine answers -1.
 */
struct ck_error *ck_kernel_panic_cpu(struct ck_kernel *kernel, int32_t *ret)
{
	struct ck_symbol sym;
	struct ck_error *err = ck_kernel_symbol_by_name(kernel, "panic_cpu", &sym);
	if (err)
		return err;
	uint32_t v;
	err = ck_kernel_read_u32(kernel, sym.address, &v);
	if (err)
		return err;
	*ret = (int32_t)v;
	return NULL;
}

/* CRASHTIME: written by crash_save_vmcoreinfo() when the crash kernel is
 * entered (ktime_get_real_seconds()). */
struct ck_error *ck_kernel_crash_time(const struct ck_kernel *kernel, int64_t *ret)
{
	return ck_kernel_vmcoreinfo_s64(kernel, "CRASHTIME", ret);
}

struct ck_error *ck_kernel_phys_base(const struct ck_kernel *kernel, uint64_t *ret)
{
	if (!kernel->arch->phys_base)
		return ck_error_create(CK_ERR_UNSUPPORTED, "no phys_base known for %s",
				       kernel->arch->name);
	*ret = kernel->arch->phys_base(kernel);
	return NULL;
}
