/*
 * strict_inb - one 8-bit IN from the unclaimed port 0x123 between two
 * messages.  Without --strict-io the read gives 0xff and the guest goes on:
 *	before
 *	after
 * With --strict-io hyve stops at the IN: output "before" only, stderr
 * "hyve: unhandled inb 0x123", status 4.
 */
#include "lib16.inc"

	.text
	.globl _start
_start:
	GUEST_SETUP
	PUTS	"before\n"
	movw	$0x123, %dx
	inb	%dx, %al
	PUTS	"after\n"
	jmp	poweroff
