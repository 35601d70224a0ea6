# crashkit build.  One build system: GNU make.
#
#   make                 release build in build/release/
#   make BUILD=asan      ASan+UBSan build in build/asan/
#   make deps            install the Debian packages the build and tests need
#   make check           build both variants and run the whole test suite
#   make demo            the main job: crash a throwaway VM, show info and dmesg
#
BUILD ?= release
VERSION := 0.1.0
O := build/$(BUILD)

CC ?= cc
PKGS := zlib libzstd lzo2 liblz4 json-c sqlite3 libdw
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lsnappy -ldeflate -lpthread

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-unused-parameter \
	-Wmissing-prototypes -Wstrict-prototypes -Wvla
BASE_CFLAGS := -std=gnu11 -DCRASHKIT_VERSION=\"$(VERSION)\" -g -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -Iinclude -Ilib \
	$(WARN) $(PKG_CFLAGS)

ifeq ($(BUILD),asan)
OPT := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDOPT := -fsanitize=address,undefined
else
OPT := -O2
LDOPT :=
endif

ALL_CFLAGS := $(BASE_CFLAGS) $(OPT) $(CFLAGS)
ALL_LDFLAGS := $(LDOPT) $(LDFLAGS)

LIB_SRCS := $(sort $(wildcard lib/*.c))
TOOL_SRCS := $(sort $(wildcard tools/*.c))
UNIT_SRCS := $(sort $(wildcard tests/unit/*.c))
TESTTOOL_SRCS := $(sort $(wildcard tests/tools/*.c))

LIB_OBJS := $(LIB_SRCS:%.c=$(O)/%.o)
TOOL_OBJS := $(TOOL_SRCS:%.c=$(O)/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/%)
TESTTOOL_BINS := $(TESTTOOL_SRCS:tests/tools/%.c=$(O)/tests/%)

LIBA := $(O)/libcrashkit.a
CRASHKIT := $(O)/crashkit

.PHONY: all deps check demo clean bench
all: $(CRASHKIT) $(UNIT_BINS) $(TESTTOOL_BINS)

$(O)/%.o: %.c $(wildcard include/*.h lib/*.h tools/*.h tests/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBA): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(CRASHKIT): $(TOOL_OBJS) $(LIBA)
	$(CC) $(ALL_LDFLAGS) -o $@ $(TOOL_OBJS) $(LIBA) $(PKG_LIBS)

$(O)/tests/%: $(O)/tests/unit/%.o $(LIBA)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBA) $(PKG_LIBS)

# Test tools may link peers' libraries (libkdumpfile) as oracles.
$(O)/tests/%: $(O)/tests/tools/%.o $(LIBA)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBA) $(PKG_LIBS) \
		$(shell pkg-config --libs libkdumpfile 2>/dev/null)

deps:
	@tests/deps.sh

check:
	@tests/run.sh

demo: all
	@tests/demo.sh

bench:
	@bench/dmesg.sh

clean:
	rm -rf build
