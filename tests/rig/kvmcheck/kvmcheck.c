/* kvmcheck: proves a KVM guest runs inside the rig and measures the cost of
 * one guest exit round trip (KVM_RUN -> KVM_EXIT_IO -> back) there.
 *
 * A VM with one vCPU and 4 KiB of RAM at 0x1000 runs real-mode code:
 *   0x1000: mov al,0x41 ; out 0x10,al ; hlt      (checked: IO exit, then HLT)
 *   0x1005: out 0x11,al ; jmp 0x1005             (timed: N IO exits)
 * Usage: kvmcheck [N]   (default N = 10000). Exit 0 when all checks pass. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define GUEST_BASE 0x1000u
#define GUEST_SIZE 0x1000u

static void die(const char *what)
{
    fprintf(stderr, "kvmcheck: FAIL: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void fail(const char *fmt, unsigned a, unsigned b)
{
    fprintf(stderr, "kvmcheck: FAIL: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    exit(1);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void check_io(struct kvm_run *run, unsigned port)
{
    if (run->exit_reason != KVM_EXIT_IO)
        fail("exit reason %u, want KVM_EXIT_IO (%u)", run->exit_reason, KVM_EXIT_IO);
    if (run->io.direction != KVM_EXIT_IO_OUT || run->io.size != 1 || run->io.count != 1)
        fail("io direction %u size %u, want out/1", run->io.direction, run->io.size);
    if (run->io.port != port)
        fail("io port 0x%x, want 0x%x", run->io.port, port);
    uint8_t v = *((uint8_t *)run + run->io.data_offset);
    if (v != 0x41)
        fail("io value 0x%x, want 0x%x", v, 0x41);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 0) : 10000;
    static const uint8_t code[] = {
        0xb0, 0x41,       /* 0x1000 mov al,0x41 */
        0xe6, 0x10,       /* 0x1002 out 0x10,al */
        0xf4,             /* 0x1004 hlt */
        0xe6, 0x11,       /* 0x1005 out 0x11,al */
        0xeb, 0xfc,       /* 0x1007 jmp 0x1005 */
    };

    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0)
        die("open /dev/kvm");
    int api = ioctl(kvm, KVM_GET_API_VERSION, 0);
    if (api != KVM_API_VERSION)
        fail("KVM_GET_API_VERSION %u, want %u", (unsigned)api, KVM_API_VERSION);
    int vm = ioctl(kvm, KVM_CREATE_VM, 0UL);
    if (vm < 0)
        die("KVM_CREATE_VM");

    uint8_t *mem = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        die("mmap guest memory");
    memcpy(mem, code, sizeof code);
    struct kvm_userspace_memory_region region = {
        .slot = 0,
        .guest_phys_addr = GUEST_BASE,
        .memory_size = GUEST_SIZE,
        .userspace_addr = (uint64_t)(uintptr_t)mem,
    };
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        die("KVM_SET_USER_MEMORY_REGION");

    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0UL);
    if (vcpu < 0)
        die("KVM_CREATE_VCPU");
    int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size < (int)sizeof(struct kvm_run))
        die("KVM_GET_VCPU_MMAP_SIZE");
    struct kvm_run *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE,
                               MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED)
        die("mmap kvm_run");

    struct kvm_sregs sregs;
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
        die("KVM_GET_SREGS");
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
        die("KVM_SET_SREGS");
    struct kvm_regs regs = { .rip = GUEST_BASE, .rax = 0, .rflags = 0x2 };
    if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
        die("KVM_SET_REGS");

    if (ioctl(vcpu, KVM_RUN, 0) < 0)
        die("KVM_RUN 1");
    check_io(run, 0x10);
    printf("kvmcheck: KVM_EXIT_IO port 0x10 value 0x41: ok\n");
    if (ioctl(vcpu, KVM_RUN, 0) < 0)
        die("KVM_RUN 2");
    if (run->exit_reason != KVM_EXIT_HLT)
        fail("exit reason %u, want KVM_EXIT_HLT (%u)", run->exit_reason, KVM_EXIT_HLT);
    printf("kvmcheck: KVM_EXIT_HLT: ok\n");

    /* Timed loop: every iteration is one full exit round trip. */
    regs.rip = GUEST_BASE + 5;
    regs.rax = 0x41; /* al is the value the loop writes */
    if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
        die("KVM_SET_REGS loop");
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        if (ioctl(vcpu, KVM_RUN, 0) < 0)
            die("KVM_RUN loop");
        check_io(run, 0x11);
    }
    double dt = now_s() - t0;
    printf("kvmcheck: %ld IO exits in %.3f s: %.1f us per KVM_RUN round trip\n",
           n, dt, n > 0 ? dt * 1e6 / (double)n : 0.0);
    printf("kvmcheck: PASS\n");
    return 0;
}
