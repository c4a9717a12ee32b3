/*
 * cons-uart.S - bench/console guest: COUNT bytes through the 16550 on COM1
 * the way a simple polling driver prints: wait for LSR.THRE (IN 0x3FD), then
 * write THR (OUT 0x3F8).  Lines of 63 characters and a newline.  Then ends
 * (see GUEST_END).
 */
#include "head.inc"
	mov	%cs:4(%bx), %ecx
	test	%ecx, %ecx
	jz	3f
1:	mov	$0x3fd, %dx
2:	in	%dx, %al
	test	$0x20, %al
	jz	2b
	mov	%cl, %al
	and	$0x3f, %al
	jz	4f
	add	$0x40, %al		/* '@'..DEL-1: printable */
	jmp	5f
4:	mov	$10, %al
5:	mov	$0x3f8, %dx
	out	%al, %dx
	dec	%ecx
	jnz	1b
3:	GUEST_END
