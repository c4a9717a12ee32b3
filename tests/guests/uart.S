/*
 * uart - COM1 16550A registers, reported on bvmcons:
 *  - LSR (0x3fd) at start, masked with 0x61 (TEMT|THRE|DR): 60 (idle, no
 *    input: run with stdin at EOF/empty);
 *  - the scratch register (0x3ff) reads back what was written: 5a, a5;
 *  - loopback (MCR 0x3fc bit 4): a byte written to THR is received, not
 *    sent: LSR & 0x61 becomes 61 and RBR gives the byte back ('L' = 4c);
 *    after leaving loopback the byte must not have reached the console.
 * Expected output:
 *	lsr 60
 *	scr 5a a5
 *	loop lsr 61 rbr 4c
 *	loop off lsr 60
 */
#include "lib16.inc"

COM1_MCR = 0x3fc
COM1_SCR = 0x3ff

	.text
	.globl _start
_start:
	GUEST_SETUP
	PUTS	"lsr "
	call	lsr
	PUTS	"\n"

	PUTS	"scr "
	movw	$COM1_SCR, %dx
	movb	$0x5a, %al
	outb	%al, %dx
	xorl	%eax, %eax
	inb	%dx, %al
	PUTHEX	2
	PUTS	" "
	movb	$0xa5, %al
	outb	%al, %dx
	xorl	%eax, %eax
	inb	%dx, %al
	PUTHEX	2
	PUTS	"\n"

	movw	$COM1_MCR, %dx
	movb	$0x10, %al		/* MCR.LOOP */
	outb	%al, %dx
	movw	$COM1_THR, %dx
	movb	$'L', %al
	outb	%al, %dx
	PUTS	"loop lsr "
	call	lsr
	PUTS	" rbr "
	movw	$COM1_THR, %dx
	xorl	%eax, %eax
	inb	%dx, %al
	PUTHEX	2
	PUTS	"\n"
	movw	$COM1_MCR, %dx
	xorb	%al, %al
	outb	%al, %dx
	PUTS	"loop off lsr "
	call	lsr
	PUTS	"\n"
	jmp	poweroff

/* lsr: print LSR & 0x61 as two hex digits. */
lsr:
	pushl	%eax
	pushw	%dx
	movw	$COM1_LSR, %dx
	xorl	%eax, %eax
	inb	%dx, %al
	andb	$0x61, %al
	PUTHEX	2
	popw	%dx
	popl	%eax
	ret
