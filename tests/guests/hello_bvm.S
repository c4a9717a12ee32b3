/*
 * hello_bvm - hello world over bvmcons.
 *
 * Checks the bvmcons signature first (16-bit IN from 0x220 must give
 * 0x6276, "bv"), prints "sig ok" or "sig bad XXXX", then a greeting, then
 * powers off (HLT).  Expected output:
 *	sig ok
 *	hello from bvmcons
 */
#include "lib16.inc"

	.text
	.globl _start
_start:
	GUEST_SETUP
	movw	$BVMCONS_PORT, %dx
	inw	%dx, %ax
	cmpw	$0x6276, %ax
	jne	1f
	PUTS	"sig ok\n"
	jmp	2f
1:	PUTS	"sig bad "
	movzwl	%ax, %eax
	PUTHEX	4
	PUTS	"\n"
2:	PUTS	"hello from bvmcons\n"
	jmp	poweroff
