/*
 * mmio - real-mode accesses to the legacy hole 0xA0000-0xFFFFF, which is
 * not RAM: unclaimed MMIO reads give all ones, writes are dropped.  Also
 * checks that the last dword below the hole (0x9FFFC) is RAM.
 * Unclaimed MMIO: 6 reads (b/w/l at 0xb8000, b at 0xb8010 after the write,
 * b at 0xa0000, l at 0xffff0), 1 write (b at 0xb8010).  Expected output:
 *	readb b8000 ff
 *	readw b8000 ffff
 *	readl b8000 ffffffff
 *	write b8010 dropped ff
 *	readb a0000 ff
 *	readl ffff0 ffffffff
 *	ram 9fffc a5a5a5a5
 */
#include "lib16.inc"

	.text
	.globl _start
_start:
	GUEST_SETUP
	movw	$0xb800, %ax
	movw	%ax, %es

	movl	$0x12345678, %eax
	movzbl	%es:0, %eax
	PUTS	"readb b8000 "
	PUTHEX	2
	PUTS	"\n"

	movl	$0x12345678, %eax
	movzwl	%es:0, %eax
	PUTS	"readw b8000 "
	PUTHEX	4
	PUTS	"\n"

	movl	$0x12345678, %eax
	movl	%es:0, %eax
	PUTS	"readl b8000 "
	PUTHEX	8
	PUTS	"\n"

	movb	$0x55, %es:0x10
	movzbl	%es:0x10, %eax
	PUTS	"write b8010 dropped "
	PUTHEX	2
	PUTS	"\n"

	movw	$0xa000, %ax
	movw	%ax, %es
	movzbl	%es:0, %eax
	PUTS	"readb a0000 "
	PUTHEX	2
	PUTS	"\n"

	movw	$0xffff, %ax
	movw	%ax, %es
	movl	%es:0, %eax
	PUTS	"readl ffff0 "
	PUTHEX	8
	PUTS	"\n"

	movw	$0x9000, %ax
	movw	%ax, %es
	movl	$0xa5a5a5a5, %es:0xfffc
	xorl	%eax, %eax
	movl	%es:0xfffc, %eax
	PUTS	"ram 9fffc "
	PUTHEX	8
	PUTS	"\n"
	jmp	poweroff
