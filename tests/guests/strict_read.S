/*
 * strict_read - one 8-bit MMIO read at 0xb8000 (the legacy VGA window, not
 * RAM, nothing claims it) between two messages.  Without --strict-io it
 * reads 0xff:
 *	before
 *	after
 * With --strict-io: output "before" only, stderr
 * "hyve: unhandled readb 0xb8000", status 4.
 */
#include "lib16.inc"

	.text
	.globl _start
_start:
	GUEST_SETUP
	PUTS	"before\n"
	movw	$0xb800, %ax
	movw	%ax, %es
	movb	%es:0, %al
	PUTS	"after\n"
	jmp	poweroff
