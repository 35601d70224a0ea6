# crashkit build.  One build system: GNU make.
#
#   make                 release build in build/release/
#   make BUILD=asan      ASan+UBSan build in build/asan/
#   make deps            install the Debian packages the build and tests need
#   make check           build both variants and run the whole test suite
#   make demo            crash a throwaway VM through crashkit's own kdump path (load, save), triage the dump
#
BUILD ?= release
VERSION := 0.1.0
O := build/$(BUILD)

CC ?= cc
# Two executables (docs/design.md, "Executables"): crashkit links only what
# dumps and capture need; crashkit-cores adds sqlite3 and libdw.  libsnappy
# is not linked at all: lib/base/codec.c loads it on the first snappy page (it
# drags in libstdc++).  Its header still comes from libsnappy-dev.
PKGS := zlib libzstd lzo2 liblz4 json-c
CORES_PKGS := sqlite3 libdw
# crashkit-analyze: BTF through libbpf, capstone for dis, libedit for the
# shell, libdw for a DWARF vmlinux.
ANALYZE_PKGS := libbpf capstone libedit libdw
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) $(CORES_PKGS) $(ANALYZE_PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -ldeflate -lpthread
CORES_LIBS := $(shell pkg-config --libs $(CORES_PKGS) 2>/dev/null)
ANALYZE_LIBS := $(shell pkg-config --libs $(ANALYZE_PKGS) 2>/dev/null)
# crashkit-kdump: liblzma for .ko.xz modules (kdump initramfs).
KDUMP_LIBS := $(shell pkg-config --libs liblzma 2>/dev/null)
# Tests also build snappy pages themselves (tests/mkdump.h).
TEST_LIBS := $(ANALYZE_LIBS) $(CORES_LIBS) $(KDUMP_LIBS) $(PKG_LIBS) -lsnappy

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-unused-parameter \
	-Wmissing-prototypes -Wstrict-prototypes -Wvla
BASE_CFLAGS := -std=gnu11 -DCRASHKIT_VERSION=\"$(VERSION)\" -g -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -Iinclude \
	$(WARN) $(PKG_CFLAGS) -MMD -MP

ifneq ($(filter %asan,$(BUILD)),)
OPT := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDOPT := -fsanitize=address,undefined
else
# A section per function and per object, and the linker drops those
# nothing reaches: a base module linked for one helper does not bring
# its neighbours (the crashkit binary must not grow as lib/ does).  The
# relative relocations of a PIE are packed (DT_RELR: binutils 2.38,
# glibc 2.36, both Debian 12's): 64 bytes instead of 4 KiB.
OPT := -O2 -ffunction-sections -fdata-sections
LDOPT := -Wl,--gc-sections -Wl,-z,pack-relative-relocs
endif

ALL_CFLAGS := $(BASE_CFLAGS) $(OPT) $(CFLAGS)
# --as-needed: an executable records only the libraries it calls into.
ALL_LDFLAGS := $(LDOPT) -Wl,--as-needed $(LDFLAGS)

# lib/ has a folder per layer (docs/design.md, "Layers"), each built into
# its own archive, lib/FOLDER/*.c -> $(O)/libFOLDER.a, and each executable
# links the archives of its layers, highest first: a call from a lower
# layer up does not link.  tests/house.sh checks the includes and, from
# each executable's link map ($(O)/NAME.map), which folders it took.
CRASHKIT_DIRS := capture walk kernel dump base
CORES_DIRS := cores base
ANALYZE_DIRS := analysis walk kernel dump base
# crashkit-kdump: check and recommend today (issue 11, docs/kdump.md).
KDUMP_DIRS := kdump capture walk kernel dump base
ALL_DIRS := analysis kdump capture cores walk kernel dump base
folder_objs = $(patsubst %.c,$(O)/%.o,$(sort $(wildcard lib/$(1)/*.c)))
archives = $(foreach d,$(1),$(O)/lib$(d).a)
COMMON_TOOL_SRCS := tools/common.c
CORES_TOOL_SRCS := tools/crashkit-cores.c $(wildcard tools/cmd_cores*.c)
ANALYZE_TOOL_SRCS := tools/crashkit-analyze.c
KDUMP_TOOL_SRCS := tools/crashkit-kdump.c $(wildcard tools/cmd_kdump*.c)
TOOL_SRCS := $(filter-out $(COMMON_TOOL_SRCS) $(CORES_TOOL_SRCS) $(ANALYZE_TOOL_SRCS) $(KDUMP_TOOL_SRCS),$(sort $(wildcard tools/*.c)))
UNIT_SRCS := $(sort $(wildcard tests/unit/*.c))
TESTTOOL_SRCS := $(sort $(wildcard tests/tools/*.c))

COMMON_TOOL_OBJS := $(COMMON_TOOL_SRCS:%.c=$(O)/%.o)
CORES_TOOL_OBJS := $(CORES_TOOL_SRCS:%.c=$(O)/%.o)
ANALYZE_TOOL_OBJS := $(ANALYZE_TOOL_SRCS:%.c=$(O)/%.o)
KDUMP_TOOL_OBJS := $(KDUMP_TOOL_SRCS:%.c=$(O)/%.o)
TOOL_OBJS := $(TOOL_SRCS:%.c=$(O)/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/%)
TESTTOOL_BINS := $(TESTTOOL_SRCS:tests/tools/%.c=$(O)/tests/%)

# crashkit: capture and the dump commands; crashkit-cores: userspace cores
# on the base layer alone.  The unit tests link every folder.
LIBA := $(call archives,$(CRASHKIT_DIRS))
CORES_LIBA := $(call archives,$(CORES_DIRS))
ANALYZE_LIBA := $(call archives,$(ANALYZE_DIRS))
KDUMP_LIBA := $(call archives,$(KDUMP_DIRS))
ALL_LIBA := $(call archives,$(ALL_DIRS))
CRASHKIT := $(O)/crashkit
CRASHKIT_CORES := $(O)/crashkit-cores
CRASHKIT_ANALYZE := $(O)/crashkit-analyze
CRASHKIT_KDUMP := $(O)/crashkit-kdump

.SECONDEXPANSION:
# Objects reached only through the archives' pattern rule would count as
# intermediate and be deleted after each build; keep them.
.SECONDARY:
.PHONY: all deps check demo clean bench
all: $(CRASHKIT) $(CRASHKIT_CORES) $(CRASHKIT_ANALYZE) $(CRASHKIT_KDUMP) $(UNIT_BINS) $(TESTTOOL_BINS)

# The library and the tests see lib/'s internal headers; tools/ sees only
# the public header (and its own tools.h).
$(O)/lib/%.o: lib/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ilib -c -o $@ $<

$(O)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ilib -c -o $@ $<

$(O)/tools/%.o: tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(O)/lib%.a: $$(call folder_objs,$$*)
	@rm -f $@
	ar rcs $@ $^

# crashkit-analyze's help texts (docs/analysis/help/CMD.txt) become C strings
# in libanalysis: $(O)/gen/help_text.c, made by lib/analysis/gen_help_text.sh.
HELP_TXTS := $(sort $(wildcard docs/analysis/help/*.txt))
%/gen/help_text.c: $(HELP_TXTS) lib/analysis/gen_help_text.sh
	@mkdir -p $(dir $@)
	sh lib/analysis/gen_help_text.sh $(HELP_TXTS) > $@.tmp && mv $@.tmp $@

$(O)/gen/%.o: $(O)/gen/%.c
	$(CC) $(ALL_CFLAGS) -Ilib -c -o $@ $<

$(O)/libanalysis.a: $(O)/gen/help_text.o

$(CRASHKIT): $(TOOL_OBJS) $(COMMON_TOOL_OBJS) $(LIBA)
	$(CC) $(ALL_LDFLAGS) -Wl,-Map=$@.map -o $@ $(TOOL_OBJS) $(COMMON_TOOL_OBJS) $(LIBA) $(PKG_LIBS)

$(CRASHKIT_CORES): $(CORES_TOOL_OBJS) $(COMMON_TOOL_OBJS) $(CORES_LIBA)
	$(CC) $(ALL_LDFLAGS) -Wl,-Map=$@.map -o $@ $(CORES_TOOL_OBJS) $(COMMON_TOOL_OBJS) $(CORES_LIBA) \
		$(CORES_LIBS) $(PKG_LIBS)

$(CRASHKIT_ANALYZE): $(ANALYZE_TOOL_OBJS) $(COMMON_TOOL_OBJS) $(ANALYZE_LIBA)
	$(CC) $(ALL_LDFLAGS) -Wl,-Map=$@.map -o $@ $(ANALYZE_TOOL_OBJS) $(COMMON_TOOL_OBJS) \
		$(ANALYZE_LIBA) $(ANALYZE_LIBS) $(PKG_LIBS)

$(O)/tests/%: $(O)/tests/unit/%.o $(ALL_LIBA)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(ALL_LIBA) $(TEST_LIBS)

$(CRASHKIT_KDUMP): $(KDUMP_TOOL_OBJS) $(COMMON_TOOL_OBJS) $(KDUMP_LIBA)
	$(CC) $(ALL_LDFLAGS) -Wl,-Map=$@.map -o $@ $(KDUMP_TOOL_OBJS) $(COMMON_TOOL_OBJS) \
		$(KDUMP_LIBA) $(KDUMP_LIBS) $(PKG_LIBS)

# Test tools may link peers' libraries (libkdumpfile) as oracles.
$(O)/tests/%: $(O)/tests/tools/%.o $(LIBA)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBA) $(TEST_LIBS) \
		$(shell pkg-config --libs libkdumpfile 2>/dev/null)

deps:
	@tests/deps.sh

check:
	@tests/run.sh

# A make of its own: `make deps demo` on a fresh machine parsed this file
# before deps installed pkg-config, and the link would lack its -l flags.
demo:
	@$(MAKE) -s all
	@tests/demo.sh

bench:
	@bench/dmesg.sh

# ---- install ----------------------------------------------------------------
# make install [PREFIX=/usr/local] [DESTDIR=DIR]: the two executables side by
# side (`crashkit cores` runs the crashkit-cores next to crashkit), the man
# pages of docs/man/ and the bash completion.  What is installed is the build
# of BUILD/O (release by default), made first if it is not up to date.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
INSTALL ?= install
MAN_PAGES := $(sort $(wildcard docs/man/*.[1-8]))
# kdump (docs/kdump.md): the systemd units of dist/ (the loader at boot,
# reloaded when /boot or kdump.conf change) and /etc/crashkit/kdump.conf.
# /etc and /lib/systemd/system for PREFIX=/usr (Debian 12's places).
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
UNITS := $(sort $(wildcard dist/*.service dist/*.path))

.PHONY: install
install: $(CRASHKIT) $(CRASHKIT_CORES) $(CRASHKIT_ANALYZE) $(CRASHKIT_KDUMP)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(BASHCOMPDIR) \
		$(sort $(foreach p,$(MAN_PAGES),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(p)))))
	$(INSTALL) -m 755 $(CRASHKIT) $(CRASHKIT_CORES) $(CRASHKIT_ANALYZE) $(CRASHKIT_KDUMP) $(DESTDIR)$(BINDIR)/
	$(foreach p,$(MAN_PAGES),$(INSTALL) -m 644 $(p) $(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(p)))/ &&) true
	$(INSTALL) -m 644 contrib/bash-completion/crashkit $(DESTDIR)$(BASHCOMPDIR)/crashkit
	ln -sf crashkit $(DESTDIR)$(BASHCOMPDIR)/crashkit-cores
	ln -sf crashkit $(DESTDIR)$(BASHCOMPDIR)/crashkit-analyze
	ln -sf crashkit $(DESTDIR)$(BASHCOMPDIR)/crashkit-kdump
	$(INSTALL) -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/crashkit
	$(foreach u,$(UNITS),sed 's|@BINDIR@|$(BINDIR)|g' $(u) > $(DESTDIR)$(UNITDIR)/$(notdir $(u)) && \
		chmod 644 $(DESTDIR)$(UNITDIR)/$(notdir $(u)) &&) true
	[ -e $(DESTDIR)$(SYSCONFDIR)/crashkit/kdump.conf ] || \
		$(INSTALL) -m 644 etc/kdump.conf $(DESTDIR)$(SYSCONFDIR)/crashkit/kdump.conf

clean:
	rm -rf build

-include $(shell find $(O) -name '*.d' 2>/dev/null)

# ---- fuzzing (docs/fuzzing.md) ----------------------------------------------
# One libFuzzer target per parser of untrusted bytes, tests/fuzz/fuzz_*.c,
# built by clang with ASan+UBSan into build/fuzz/; the library is compiled
# again by clang into build/fuzz/obj/ (the gcc builds are left alone).
#   make fuzz-build              the targets only
#   make fuzz FUZZ_SECONDS=N     each target N seconds over its corpus and
#                                dictionary (tests/fuzz/run.sh); new inputs go
#                                to build/fuzz/corpus/, crashes to build/fuzz/crashes/
#   make fuzz-seeds              rewrites tests/fuzz/corpus/ from the generators
# tests/cli/fuzz.sh replays the corpora and past crashes in the test suite.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_O := build/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -std=gnu11 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 \
	-DCRASHKIT_VERSION=\"$(VERSION)\" -Iinclude -Ilib $(PKG_CFLAGS) -Wall -Wextra \
	-Wno-unused-parameter -Wno-unused-function -Wno-unused-variable -MMD -MP $(FUZZ_SAN)
FUZZ_LIB_OBJS := $(patsubst lib/%.c,$(FUZZ_O)/obj/%.o,$(sort $(wildcard lib/*/*.c)))
FUZZ_LIB_OBJS += $(FUZZ_O)/obj/gen/help_text.o
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(FUZZ_O)/%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))

.PHONY: fuzz fuzz-build fuzz-seeds
fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@tests/fuzz/run.sh fuzz $(FUZZ_SECONDS) $(FUZZ_BINS)

fuzz-seeds: fuzz-build
	@for t in $(FUZZ_BINS); do n=$$(basename $$t); rm -rf tests/fuzz/corpus/$$n; \
		mkdir -p tests/fuzz/corpus/$$n && $$t --make-seeds=tests/fuzz/corpus/$$n || exit 1; done

# coverage for libFuzzer in the library, the fuzzer's own main in the targets
$(FUZZ_O)/obj/%.o: lib/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_O)/obj/gen/help_text.o: $(FUZZ_O)/gen/help_text.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_O)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJS) $(TEST_LIBS)

-include $(wildcard $(FUZZ_O)/obj/*/*.d $(FUZZ_O)/*.d)
# ---- end of fuzzing -----------------------------------------------------------
