/*
 * strict_write - one 16-bit MMIO write at 0xb8010 (unclaimed) between two
 * messages.  Without --strict-io it is dropped:
 *	before
 *	after
 * With --strict-io: output "before" only, stderr
 * "hyve: unhandled writew 0xb8010", status 4.
 */
#include "lib16.inc"

	.text
	.globl _start
_start:
	GUEST_SETUP
	PUTS	"before\n"
	movw	$0xb800, %ax
	movw	%ax, %es
	movw	$0x1234, %es:0x10
	PUTS	"after\n"
	jmp	poweroff
