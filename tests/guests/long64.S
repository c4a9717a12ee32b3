/*
 * long64 - enters 64-bit long mode by itself and does MMIO above 3 GiB.
 *
 * Real mode: check CPUID for long mode (if absent: print "no long mode in
 * CPUID ..." and power off), build identity-mapping page tables for the first 4 GiB with
 * 2 MiB pages at 0x10000 (PML4 0x10000, PDPT 0x11000, four page directories
 * 0x12000-0x15fff), load a GDT, set CR0.PE and far-jump to 32-bit code;
 * there set CR4.PAE, CR3, EFER.LME (wrmsr 0xc0000080), CR0.PG and far-jump
 * to a 64-bit code segment.
 *
 * 64-bit: at 0xd0000000 (above 3 GiB: not RAM, unclaimed) write widths
 * 8, 4, 2, 1 (the first unclaimed access is the 8-byte write, so under
 * --strict-io hyve stops with "hyve: unhandled writeq 0xd0000000"), then
 * read widths 1, 2, 4, 8 and print the values (all ones).  Then check RAM:
 * write and read back a dword at 0x100000 (first byte above the hole) and
 * at 0xffffff0 (just under 256 MiB, hyve's default --memory); "absent" means
 * the write was dropped and the read gave all ones (not RAM, e.g. with
 * --memory 128M; each such probe is one more unclaimed write and read).
 * Unclaimed MMIO with the default memory: 4 reads, 4 writes.
 * Expected output (default --memory):
 *	in long mode
 *	readb ff
 *	readw ffff
 *	readl ffffffff
 *	readq ffffffffffffffff
 *	ram 100000 ok
 *	ram ffffff0 ok
 *	long mode ok
 */
#include "lib16.inc"

PML4 = 0x10000
PDPT = 0x11000
PD0  = 0x12000			/* 4 page directories, 0x12000-0x15fff */
MMIO = 0xd0000000

	.text
	.globl _start
_start:
	GUEST_SETUP

	/*
	 * EFER.LME can only be set when the vCPU's CPUID has long mode
	 * (0x80000001 EDX bit 29); otherwise wrmsr raises #GP and, with no
	 * IDT, the guest triple-faults.  Say so plainly instead.
	 */
	movl	$0x80000000, %eax
	cpuid
	cmpl	$0x80000001, %eax
	jb	no_lm
	movl	$0x80000001, %eax
	cpuid
	btl	$29, %edx
	jnc	no_lm

	/* Page tables: clear 0x10000-0x15fff (through ES = 0x1000). */
	movw	$(PML4 >> 4), %ax
	movw	%ax, %es
	xorw	%di, %di
	xorl	%eax, %eax
	movw	$(0x6000 / 4), %cx
	rep stosl
	movl	$(PDPT | 3), %es:0			/* present, writable */
	movl	$((PD0 + 0x0000) | 3), %es:(PDPT - PML4 + 0)
	movl	$((PD0 + 0x1000) | 3), %es:(PDPT - PML4 + 8)
	movl	$((PD0 + 0x2000) | 3), %es:(PDPT - PML4 + 16)
	movl	$((PD0 + 0x3000) | 3), %es:(PDPT - PML4 + 24)
	/* 2048 PDEs: entry i maps i * 2 MiB (PS | RW | P). */
	movw	$(PD0 - PML4), %di
	movl	$0x83, %eax
	movw	$2048, %cx
1:	movl	%eax, %es:(%di)
	addl	$0x200000, %eax
	addw	$8, %di
	loop	1b

	ENTER_PM32 pm32

no_lm:
	PUTS	"no long mode in CPUID (0x80000001 EDX.LM clear)\n"
	jmp	poweroff

	.code32
pm32:
	PM32_FLAT
	movl	%cr4, %eax
	orl	$0x20, %eax				/* CR4.PAE */
	movl	%eax, %cr4
	movl	$PML4, %eax
	movl	%eax, %cr3
	movl	$0xc0000080, %ecx			/* EFER */
	rdmsr
	orl	$0x100, %eax				/* EFER.LME */
	wrmsr
	movl	%cr0, %eax
	orl	$0x80000000, %eax			/* CR0.PG */
	movl	%eax, %cr0
	ljmp	$0x18, $lm64

	.code64
lm64:
	movw	$0x10, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movl	$0x7c00, %esp
	movl	$s_in, %esi
	call	puts64

	movl	$MMIO, %ebx
	movabsq	$0x1122334455667788, %rax
	movq	%rax, (%rbx)				/* writeq 0xd0000000 */
	movl	%eax, 8(%rbx)				/* writel 0xd0000008 */
	movw	%ax, 16(%rbx)				/* writew 0xd0000010 */
	movb	%al, 24(%rbx)				/* writeb 0xd0000018 */

	movl	$s_rb, %esi
	call	puts64
	movzbl	(%rbx), %eax				/* readb 0xd0000000 */
	movl	$2, %ecx
	call	hex64

	movl	$s_rw, %esi
	call	puts64
	movzwl	(%rbx), %eax				/* readw */
	movl	$4, %ecx
	call	hex64

	movl	$s_rl, %esi
	call	puts64
	movl	(%rbx), %eax				/* readl */
	movl	$8, %ecx
	call	hex64

	movl	$s_rq, %esi
	call	puts64
	movq	(%rbx), %rax				/* readq */
	movl	$16, %ecx
	call	hex64

	movl	$0x100000, %ebx
	movl	$s_ram1, %esi
	call	ramtest
	movl	$0xffffff0, %ebx
	movl	$s_ram2, %esi
	call	ramtest

	movl	$s_ok, %esi
	call	puts64
	cli
2:	hlt
	jmp	2b

/* ramtest: print string %rsi, then "ok"/"absent"/"bad XXXXXXXX" for the
 * dword at %rbx after writing 0x5a5aa5a5 there. */
ramtest:
	call	puts64
	movl	$0x5a5aa5a5, (%rbx)
	movl	(%rbx), %eax
	cmpl	$0x5a5aa5a5, %eax
	je	1f
	cmpl	$0xffffffff, %eax
	je	2f
	movl	$s_bad, %esi
	call	puts64
	movl	$8, %ecx
	jmp	hex64				/* tail call: prints value + \n */
1:	movl	$s_rok, %esi
	jmp	puts64
2:	movl	$s_absent, %esi
	jmp	puts64

/* putc64: print %al on bvmcons. */
putc64:
	pushq	%rax
	pushq	%rdx
	movzbl	%al, %eax
	movl	$BVMCONS_PORT, %edx
	outl	%eax, %dx
	popq	%rdx
	popq	%rax
	ret

/* puts64: print the NUL-terminated string at %rsi. */
puts64:
	pushq	%rax
	pushq	%rsi
1:	lodsb
	testb	%al, %al
	jz	2f
	call	putc64
	jmp	1b
2:	popq	%rsi
	popq	%rax
	ret

/* hex64: print the low %ecx hex digits of %rax, then a newline. */
hex64:
	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	movq	%rax, %rbx
1:	decl	%ecx
	pushq	%rbx
	pushq	%rcx
	shll	$2, %ecx
	shrq	%cl, %rbx
	andl	$0xf, %ebx
	movl	$hexdigits, %eax	/* (no 32S relocations in an elf32 object) */
	movb	(%rax,%rbx), %al
	call	putc64
	popq	%rcx
	popq	%rbx
	testl	%ecx, %ecx
	jnz	1b
	movb	$10, %al
	call	putc64
	popq	%rcx
	popq	%rbx
	popq	%rax
	ret

	.section .rodata
	FLAT_GDT 0x00af9a000000ffff	/* 0x18: 64-bit code (L=1, D=0) */
s_in:	.asciz	"in long mode\n"
s_rb:	.asciz	"readb "
s_rw:	.asciz	"readw "
s_rl:	.asciz	"readl "
s_rq:	.asciz	"readq "
s_ram1:	.asciz	"ram 100000 "
s_ram2:	.asciz	"ram ffffff0 "
s_rok:	.asciz	"ok\n"
s_absent: .asciz "absent\n"
s_bad:	.asciz	"bad "
s_ok:	.asciz	"long mode ok\n"
