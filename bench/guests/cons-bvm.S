/*
 * cons-bvm.S - bench/console guest: COUNT bytes through bhyve's console port
 * (32-bit OUT to 0x220 prints the low byte), same text as cons-uart.S.
 * Then ends (see GUEST_END).
 */
#include "head.inc"
	mov	%cs:4(%bx), %ecx
	mov	$0x220, %dx
	test	%ecx, %ecx
	jz	3f
1:	mov	%ecx, %eax
	and	$0x3f, %eax
	jz	4f
	add	$0x40, %eax
	jmp	5f
4:	mov	$10, %eax
5:	out	%eax, %dx
	dec	%ecx
	jnz	1b
3:	GUEST_END
