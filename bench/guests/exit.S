/*
 * exit.S - bench/exit-cost guest: COUNT writes of AL to port PORT (0x80,
 * the POST port, unless patched), then HLT.  `out %al, %dx` with DX = PORT:
 * the same single-byte port write as `out %al, $0x80`, with a patchable port.
 */
#include "head.inc"
	mov	%cs:4(%bx), %ecx
	mov	%cs:8(%bx), %dx
	xor	%al, %al
	test	%ecx, %ecx
	jz	2f
1:	out	%al, %dx
	dec	%ecx
	jnz	1b
2:	hlt
	jmp	2b
