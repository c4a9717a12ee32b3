/*
 * reset - asks the i8042 keyboard controller to pulse the CPU reset line
 * (command 0xFE to port 0x64): hyve exits with status 2.  Expected output:
 *	reset
 * ("still here" would mean the reset was ignored.)
 */
#include "lib16.inc"

	.text
	.globl _start
_start:
	GUEST_SETUP
	PUTS	"reset\n"
	movb	$0xfe, %al
	outb	%al, $0x64
	PUTS	"still here\n"
	jmp	poweroff
