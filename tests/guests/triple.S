/*
 * triple - triple fault: switch to 32-bit protected mode with an empty IDT
 * (limit 0) and execute UD2.  The #UD cannot be delivered (vector 6 is
 * outside the IDT limit -> #GP), nor can the #GP (-> #DF), nor the #DF: the
 * CPU shuts down, KVM reports KVM_EXIT_SHUTDOWN and hyve exits with status 3
 * and "hyve: guest triple fault ..." on stderr.  Expected output:
 *	triple
 */
#include "lib16.inc"

	.text
	.globl _start
_start:
	GUEST_SETUP
	PUTS	"triple\n"
	ENTER_PM32 pm32, idtr

	.code32
pm32:
	PM32_FLAT
	ud2
	/* not reached */
	movl	$0x220, %edx
	movl	$'?', %eax
	outl	%eax, %dx
	cli
	hlt

	.section .rodata
	FLAT_GDT
idtr:	.word	0			/* limit 0: no vector fits */
	.long	0
