/*
 * outs - string output: REP OUTSB to COM1's THR (one exit carries every
 * byte) and REP OUTSL to bvmcons (32-bit elements, the low byte of each is
 * the character).  Expected output:
 *	rep outsb com1
 *	rep outsd bvmcons
 */
#include "lib16.inc"

	.text
	.globl _start
_start:
	GUEST_SETUP

	/* REP OUTSB: bytes straight from the string, no LSR polling. */
	movw	$msg_b, %si
	movw	$msg_b_len, %cx
	movw	$COM1_THR, %dx
	rep outsb

	/* Widen msg_d into dwords at 0x2000:0, then REP OUTSL from there. */
	movw	$0x2000, %ax
	movw	%ax, %es
	xorw	%di, %di
	movw	$msg_d, %si
	movw	$msg_d_len, %cx
1:	lodsb
	movzbl	%al, %eax
	stosl
	loop	1b

	pushw	%ds
	movw	$0x2000, %ax
	movw	%ax, %ds
	xorw	%si, %si
	movw	$msg_d_len, %cx
	movw	$BVMCONS_PORT, %dx
	rep outsl
	popw	%ds
	jmp	poweroff

	.section .rodata
msg_b:	.ascii	"rep outsb com1\n"
msg_b_len = . - msg_b
msg_d:	.ascii	"rep outsd bvmcons\n"
msg_d_len = . - msg_d
