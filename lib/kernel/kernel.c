/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A dump seen as a Linux kernel: VMCOREINFO, the architecture's address
 * translation and reads of kernel virtual memory.  Symbols are looked up in
 * symbols.c, facts (utsname, panic CPU) decoded in facts.c, both on top of
 * this file.
 *
 * The architecture is a driver chosen at run time: by the name the dump
 * container gives (ELF e_machine, kdump header utsname), else by asking each
 * driver's init() in turn, which answers CK_ERR_NOT_FORMAT when the VMCOREINFO
 * keys it needs are absent.  Never by how crashkit itself was compiled.
 */
#include <endian.h>
#include <inttypes.h>
#include <string.h>

#include "kernel/kernel.h"

static const struct ck_arch_ops *const arch_drivers[] = {
	&ck_arch_x86_64_ops,
};

/*
 * Reads are split at 4 KiB: no architecture maps kernel memory in smaller
 * pieces, so each chunk translates as one.
 */
#define KERNEL_READ_CHUNK 4096u

static struct ck_error *kernel_pick_arch(struct ck_kernel *kernel)
{
	const struct ck_dump_info *info = ck_dump_info(kernel->dump);
	const char *want = info ? info->arch : NULL;

	for (size_t i = 0; i < CK_ARRAY_SIZE(arch_drivers); i++) {
		const struct ck_arch_ops *ops = arch_drivers[i];
		if (want && strcmp(want, ops->name))
			continue;
		kernel->arch = ops;
		struct ck_error *err = ops->init(kernel);
		if (!err)
			return NULL;
		kernel->arch = NULL;
		if (want || ck_error_code(err) != CK_ERR_NOT_FORMAT)
			return ck_error_prepend(err, "%s address translation", ops->name);
		ck_error_destroy(err);
	}
	if (want)
		return ck_error_create(CK_ERR_UNSUPPORTED,
				       "architecture %s is not supported", want);
	return ck_error_create(CK_ERR_UNSUPPORTED,
			       "no supported architecture matches the VMCOREINFO keys");
}

struct ck_error *ck_kernel_error_file(const struct ck_dump *dump, struct ck_error *err)
{
	const struct ck_dump_info *info = dump ? ck_dump_info(dump) : NULL;
	if (!err || err == &ck_error_nomem || !info || !info->path)
		return err;
	/* formatted as an error, the path is escaped as in err's message */
	struct ck_error *quoted = ck_error_create(CK_ERR_INVALID, "'%s'", info->path);
	bool named = quoted != &ck_error_nomem &&
		     strstr(ck_error_message(err), ck_error_message(quoted));
	ck_error_destroy(quoted);
	return named ? err : ck_error_prepend(err, "'%s'", info->path);
}

static struct ck_error *kernel_create(struct ck_dump *dump, struct ck_kernel **ret);

struct ck_error *ck_kernel_create(struct ck_dump *dump, struct ck_kernel **ret)
{
	return ck_kernel_error_file(dump, kernel_create(dump, ret));
}

static struct ck_error *kernel_create(struct ck_dump *dump, struct ck_kernel **ret)
{
	if (!dump || !ret)
		return ck_error_create(CK_ERR_INVALID, "ck_kernel_create: no dump");
	size_t len;
	const char *text = ck_dump_vmcoreinfo(dump, &len);
	if (!text)
		return ck_error_create(CK_ERR_UNSUPPORTED,
				       "the dump has no VMCOREINFO note: cannot interpret it as a Linux kernel");

	struct ck_kernel *kernel = calloc(1, sizeof(*kernel));
	if (!kernel)
		return &ck_error_nomem;
	kernel->dump = dump;

	struct ck_error *err = ck_vmcoreinfo_parse(kernel, text, len);
	if (err)
		goto fail;
	if (!kernel->nr_vmcoreinfo) {
		err = ck_error_create(CK_ERR_FORMAT, "VMCOREINFO has no KEY=value lines");
		goto fail;
	}

	/* KASLR slide (KERNELOFFSET, x86_64 and arm64); absent means none. */
	if (ck_kernel_vmcoreinfo_str(kernel, "KERNELOFFSET")) {
		err = ck_kernel_vmcoreinfo_u64(kernel, "KERNELOFFSET", &kernel->kaslr_offset);
		if (err)
			goto fail;
	}

	err = kernel_pick_arch(kernel);
	if (err)
		goto fail;

	/* kallsyms is decoded on the first symbol lookup: `dmesg` never needs it. */
	*ret = kernel;
	return NULL;

fail:
	ck_kernel_destroy(kernel);
	return err;
}

void ck_kernel_destroy(struct ck_kernel *kernel)
{
	if (!kernel)
		return;
	ck_kallsyms_destroy(kernel->kallsyms);
	if (kernel->arch && kernel->arch->deinit)
		kernel->arch->deinit(kernel);
	for (size_t i = 0; i < kernel->nr_vmcoreinfo; i++) {
		free(kernel->vmcoreinfo[i].key);
		free(kernel->vmcoreinfo[i].value);
	}
	free(kernel->vmcoreinfo);
	free(kernel);
}

struct ck_dump *ck_kernel_dump(const struct ck_kernel *kernel)
{
	return kernel->dump;
}

uint64_t ck_kernel_offset(const struct ck_kernel *kernel)
{
	return kernel->kaslr_offset;
}

struct ck_error *ck_kernel_virt_to_phys(struct ck_kernel *kernel, uint64_t vaddr,
					uint64_t *ret)
{
	return kernel->arch->virt_to_phys(kernel, vaddr, ret);
}

struct ck_error *ck_kernel_elf_loads(struct ck_kernel *kernel, const struct ck_mem_range *ranges,
				     size_t nr_ranges, struct ck_elf_load **ret, size_t *nr_ret)
{
	if (!kernel->arch->elf_loads)
		return ck_error_create(CK_ERR_UNSUPPORTED, "no ELF mappings known for %s",
				       kernel->arch->name);
	return kernel->arch->elf_loads(kernel, ranges, nr_ranges, ret, nr_ret);
}

struct ck_error *ck_kernel_read(struct ck_kernel *kernel, uint64_t vaddr, void *buf,
				size_t len)
{
	uint64_t last;
	if (len && ck_add_overflow(vaddr, len - 1, &last))
		return ck_error_create(CK_ERR_FAULT,
				       "kernel read of %zu bytes at 0x%" PRIx64 " wraps the address space",
				       len, vaddr);
	uint8_t *out = buf;
	while (len) {
		size_t chunk = KERNEL_READ_CHUNK - (size_t)(vaddr % KERNEL_READ_CHUNK);
		if (chunk > len)
			chunk = len;
		uint64_t paddr;
		struct ck_error *err = kernel->arch->virt_to_phys(kernel, vaddr, &paddr);
		if (!err)
			err = ck_dump_read_phys(kernel->dump, paddr, out, chunk);
		if (err)
			return ck_error_prepend(err, "reading kernel memory at 0x%" PRIx64, vaddr);
		out += chunk;
		vaddr += chunk;
		len -= chunk;
	}
	return NULL;
}

/* The kernels crashkit reads (x86_64, arm64) are little-endian. */
struct ck_error *ck_kernel_read_u64(struct ck_kernel *kernel, uint64_t vaddr,
				    uint64_t *ret)
{
	uint64_t v;
	struct ck_error *err = ck_kernel_read(kernel, vaddr, &v, sizeof(v));
	if (err)
		return err;
	*ret = le64toh(v);
	return NULL;
}

struct ck_error *ck_kernel_read_u32(struct ck_kernel *kernel, uint64_t vaddr,
				    uint32_t *ret)
{
	uint32_t v;
	struct ck_error *err = ck_kernel_read(kernel, vaddr, &v, sizeof(v));
	if (err)
		return err;
	*ret = le32toh(v);
	return NULL;
}
