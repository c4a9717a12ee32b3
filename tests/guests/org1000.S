/*
 * org1000 - a guest linked at 0x1000, run with --raw org1000.bin@0x1000:
 * hyve must load it there and start at 0000:1000.  It prints its entry
 * CS:IP (computed with call/pop) and a string read from its own image at
 * the absolute address it was linked for.  Expected output:
 *	entry 0000:1000
 *	loaded at 0x1000
 */
#include "lib16.inc"

	.globl	GUEST_LOAD
	.set	GUEST_LOAD, 0x1000

	.text
	.globl _start
_start:
	movw	%cs, %cs:s_cs
	xorw	%ax, %ax
	movw	%ax, %ss
	movw	$0x7c00, %sp		/* only the default load promises SP */
	call	1f
1:	popw	%cs:s_ip
	subw	$(1b - _start), %cs:s_ip
	GUEST_SETUP
	PUTS	"entry "
	movzwl	s_cs, %eax
	PUTHEX	4
	PUTS	":"
	movzwl	s_ip, %eax
	PUTHEX	4
	PUTS	"\nloaded at 0x1000\n"
	jmp	poweroff

	.data
s_cs:	.word	0
s_ip:	.word	0
