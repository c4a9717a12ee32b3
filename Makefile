# hyve - build.  `make` builds build/hyve, the test guests and the
# unit tests; `make SAN=1` builds the same tree with ASan+UBSan into
# build/san/.  `make check` runs the whole suite (tests/run).

CC      ?= cc
SAN     ?= 0
ifeq ($(SAN),1)
O       := build/san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -DHYVE_LOCK_DEBUG
else
O       := build
SANFLAGS :=
endif
# Linking (docs/startup.md): the small libraries hyve uses on every run
# (liburing, jansson, the decompressors) are linked statically from Debian's
# .a files; libc stays shared.  libmicrohttpd (the API server, with GnuTLS
# behind it) and libslirp (--net user, with GLib) are opened with dlopen() when
# a feature first needs them (src/dynlib.c): mapping and relocating their
# ~20 libraries made every start twice as slow.  Their headers still come
# from pkg-config.
SLIRP_CFLAGS := $(shell pkg-config --cflags slirp 2>/dev/null)

CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
           -D_GNU_SOURCE -Isrc $(SANFLAGS) -MMD -MP $(SLIRP_CFLAGS) \
           $(shell pkg-config --cflags libseccomp 2>/dev/null)
LDFLAGS += $(SANFLAGS)
PKGS    := liburing libmicrohttpd jansson
CFLAGS  += $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# Decompressing bzImage payloads (src/boot/decomp.c) and hashing the kernel
# cache (src/boot/kcache.c): Debian's libraries; libbz2 has no .pc file.
COMP_PKGS := zlib liblzma liblz4 libzstd lzo2 libxxhash
CFLAGS  += $(shell pkg-config --cflags $(COMP_PKGS) 2>/dev/null)
COMP_LIBS := $(shell pkg-config --libs $(COMP_PKGS) 2>/dev/null || echo -lz -llzma -llz4 -lzstd -llzo2 -lxxhash) -lbz2
# libseccomp (src/sandbox.c) is small and used on every run: static too.
LDLIBS  += -Wl,-Bstatic -luring -ljansson -lseccomp $(COMP_LIBS) -Wl,-Bdynamic -ldl -lpthread

SRCS    := $(sort $(wildcard src/*.c src/vmm/*.c src/dev/*.c src/boot/*.c src/backend/*.c src/pci/*.c src/virtio/*.c src/api/*.c))
OBJS    := $(SRCS:%.c=$(O)/%.o)
LIBOBJS := $(filter-out $(O)/src/main.o,$(OBJS))

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/unit/%)

GUEST_SRCS := $(sort $(wildcard tests/guests/*.S))
GUEST_BINS := $(GUEST_SRCS:tests/guests/%.S=build/guests/%.bin)
PVH_GUEST_SRCS := $(sort $(wildcard tests/guests/pvh/*.S))
PVH_GUESTS := $(PVH_GUEST_SRCS:tests/guests/pvh/%.S=build/guests/%.pvh)

BENCH_SRCS := $(sort $(wildcard bench/*.c))
BENCH_BINS := $(BENCH_SRCS:bench/%.c=build/bench/%)

# Helpers the rig's tests run (tests/tools: small clients the rig lacks).
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=build/tests/tools/%)

all: $(O)/hyve $(UNIT_BINS) $(GUEST_BINS) $(PVH_GUESTS) $(BENCH_BINS) $(TOOL_BINS)

$(O)/hyve: $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(O)/libhyve.a: $(LIBOBJS) Makefile
	rm -f $@ && ar rcs $@ $(filter %.o,$^)

# Unit tests: cmocka, linked against every object but main.o (whole archive:
# devices and PCI device types are reached only through their linker sets).
$(O)/tests/unit/%: tests/unit/%.c $(O)/libhyve.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< -Wl,--whole-archive $(O)/libhyve.a -Wl,--no-whole-archive \
		$(LDFLAGS) $(LDLIBS) -lcmocka

# Test guests: flat binaries assembled with GNU as, linked at their load
# address (tests/guests/guest.ld; 0x7c00 unless the source defines the
# absolute symbol GUEST_LOAD).  tests/guests/*.inc are shared includes.
build/guests/%.bin: tests/guests/%.S tests/guests/guest.ld $(wildcard tests/guests/*.inc)
	@mkdir -p $(dir $@)
	$(CC) -c -nostdlib -m32 -o build/guests/$*.o $<
	ld -m elf_i386 -T tests/guests/guest.ld -o build/guests/$*.elf build/guests/$*.o
	objcopy -O binary build/guests/$*.elf $@

# PVH test guests (tests/guests/pvh/): ELF64 files with the PVH entry note,
# 32-bit code (build/guests/NAME.pvh), booted with --kernel: they get the in-kernel irqchip, ACPI
# and PCI like a Linux kernel would (the hostile-guest suite).
build/guests/%.pvh: tests/guests/pvh/%.S tests/guests/pvh/pvh.ld
	@mkdir -p $(dir $@)
	$(CC) -c -nostdlib -o build/guests/$*.pvh.o $<
	ld -m elf_x86_64 --no-warn-rwx-segments -T tests/guests/pvh/pvh.ld -o $@ build/guests/$*.pvh.o

# Benchmarks' helper programs (a raw KVM loop, ...): plain, static.
build/tests/tools/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -std=gnu11 -Wall -Wextra -Werror -static -o $@ $<

build/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -std=gnu11 -Wall -Wextra -Werror -static -o $@ $< -luring -lpthread

# Fuzz targets: libFuzzer (clang).  Each target names the sources it links
# (the model it drives plus what that needs), so it can stub the rest.
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%)
FUZZ_CC   ?= clang
# The VM core without KVM (vm_create_nokvm): what a target needs for a real struct vm.
FUZZ_VM_SRC := src/vm.c src/mem.c src/vcpu.c src/cpu.c src/iobus.c src/console.c src/dev.c \
	       src/vmm/vmm.c src/lock.c src/err.c src/util.c src/sandbox.c
FUZZ_SRC_fuzz_uart16550 := src/dev/uart16550.c $(FUZZ_VM_SRC)
FUZZ_SRC_fuzz_virtqueue := src/virtio/virtqueue.c src/mem.c src/err.c
FUZZ_SRC_fuzz_vblk_parse := src/dev/virtio_blk.c src/virtio/iov.c src/virtio/virtio_pci.c src/virtio/virtqueue.c src/pci/pci.c src/pci/msix.c src/backend/blk.c $(FUZZ_VM_SRC)
FUZZ_SRC_fuzz_vnet_tx := src/dev/virtio_net_tx.c src/virtio/iov.c
FUZZ_SRC_fuzz_api := src/api/fc.c src/err.c src/util.c
FUZZ_SRC_fuzz_kboot := src/boot/decomp.c src/boot/reloc.c src/err.c
FUZZ_SRC_fuzz_bzimage := src/boot/kernel.c src/boot/bzimage.c src/boot/pvh.c src/boot/e820.c src/boot/decomp.c src/boot/reloc.c src/boot/kcache.c $(FUZZ_VM_SRC)
# Device and machine targets: a KVM-free VM with the real code (all of it).
FUZZ_LIB := $(filter-out src/main.c,$(SRCS))
FUZZ_SRC_fuzz_pci := $(FUZZ_LIB)
FUZZ_SRC_fuzz_virtio_pci := $(FUZZ_LIB)
FUZZ_SRC_fuzz_rtc := $(FUZZ_LIB)
FUZZ_SRC_fuzz_i8042 := $(FUZZ_LIB)
FUZZ_SRC_fuzz_acpi_pm := $(FUZZ_LIB)
FUZZ_SRC_fuzz_bvmcons := $(FUZZ_LIB)
FUZZ_SRC_fuzz_machine := $(FUZZ_LIB)
.SECONDEXPANSION:
build/fuzz/%: tests/fuzz/%.c $$(FUZZ_SRC_$$*) $(wildcard tests/fuzz/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -g -O1 -D_GNU_SOURCE -DHYVE_LOCK_DEBUG -Isrc -Wall -Wextra -Werror -Wno-unused-parameter \
		$(shell pkg-config --cflags lzo2 2>/dev/null) $(SLIRP_CFLAGS) \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -o $@ $(sort $(filter %.c,$^)) \
		-lpthread -luring -ljansson $(COMP_LIBS) -lseccomp -ldl
fuzz: $(FUZZ_BINS)

# The whole suite: the normal build and the ASan+UBSan build of the same tree.
san-unit: $(UNIT_BINS)

check:
	bash scripts/test.sh

clean:
	rm -rf build

.PHONY: all check clean fuzz san-unit
.SECONDARY: $(GUEST_SRCS:tests/guests/%.S=build/guests/%.o) $(GUEST_SRCS:tests/guests/%.S=build/guests/%.elf)
-include $(OBJS:.o=.d) $(UNIT_BINS:=.d)

# Benchmarks (bench/, docs/bench.md).  Guests: flat 16-bit images, position-
# independent (they run at 0000:7C00 under --raw and at F000:0000 as a
# QEMU -bios image).  `make bench` builds everything and runs bench/run-all
# (inside the nested-KVM rig where /dev/kvm is missing).
BENCH_GUEST_SRCS := $(sort $(wildcard bench/guests/*.S))
BENCH_GUESTS := $(BENCH_GUEST_SRCS:bench/guests/%.S=build/bench/guests/%.bin)

build/bench/guests/%.bin: bench/guests/%.S bench/guests/head.inc
	@mkdir -p $(dir $@)
	$(CC) -c -nostdlib -m32 -o build/bench/guests/$*.o $<
	ld -m elf_i386 -Ttext=0 -e _start -o build/bench/guests/$*.elf build/bench/guests/$*.o
	objcopy -O binary -j .text build/bench/guests/$*.elf $@

bench-build: $(O)/hyve $(BENCH_BINS) $(BENCH_GUESTS)

bench: bench-build
	sh bench/run-all

.PHONY: bench bench-build
