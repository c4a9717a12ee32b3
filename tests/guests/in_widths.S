/*
 * in_widths - IN of every width from an unclaimed port (0x123) reads all
 * ones in the accessed bytes; the rest of %eax is left alone (preloaded with
 * 0x12345678).  Three unclaimed reads, no writes.  Expected output:
 *	inb 123456ff
 *	inw 1234ffff
 *	inl ffffffff
 */
#include "lib16.inc"

PORT = 0x123

	.text
	.globl _start
_start:
	GUEST_SETUP
	movw	$PORT, %dx
	movl	$0x12345678, %eax
	inb	%dx, %al
	PUTS	"inb "
	PUTHEX	8
	PUTS	"\n"
	movl	$0x12345678, %eax
	inw	%dx, %ax
	PUTS	"inw "
	PUTHEX	8
	PUTS	"\n"
	movl	$0x12345678, %eax
	inl	%dx, %eax
	PUTS	"inl "
	PUTHEX	8
	PUTS	"\n"
	jmp	poweroff
