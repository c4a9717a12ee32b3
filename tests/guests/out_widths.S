/*
 * out_widths - OUT of every width to an unclaimed port (0x123): each is
 * dropped (and counted: --stats shows "pio unclaimed reads=0 writes=3").
 * Expected output:
 *	out done
 */
#include "lib16.inc"

PORT = 0x123

	.text
	.globl _start
_start:
	GUEST_SETUP
	movw	$PORT, %dx
	movl	$0x11223344, %eax
	outb	%al, %dx
	outw	%ax, %dx
	outl	%eax, %dx
	PUTS	"out done\n"
	jmp	poweroff
