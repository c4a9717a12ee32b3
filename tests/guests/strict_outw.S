/*
 * strict_outw - one 16-bit OUT to the unclaimed port 0x1234 between two
 * messages.  Without --strict-io it is dropped:
 *	before
 *	after
 * With --strict-io: output "before" only, stderr
 * "hyve: unhandled outw 0x1234", status 4.
 */
#include "lib16.inc"

	.text
	.globl _start
_start:
	GUEST_SETUP
	PUTS	"before\n"
	movw	$0x1234, %dx
	movw	$0xbeef, %ax
	outw	%ax, %dx
	PUTS	"after\n"
	jmp	poweroff
