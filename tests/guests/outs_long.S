/*
 * outs_long - string output longer than one KVM I/O data page (4 KiB), so
 * KVM splits each REP OUTS into several exits and every element must still
 * arrive, in order.  The guest builds 100 lines of
 *	"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM\n"	(50 bytes)
 * at 0x2000:0 (5000 bytes) and sends them with one REP OUTSB to COM1, then
 * the same 5000 characters as dwords at 0x3000:0 (20000 bytes) with one
 * REP OUTSL to bvmcons.  Expected output: that line 200 times (10000 bytes).
 */
#include "lib16.inc"

LINES = 100

	.text
	.globl _start
_start:
	GUEST_SETUP

	/* Byte copy at 0x2000:0 and dword copy at 0x3000:0. */
	movw	$0x2000, %ax
	movw	%ax, %es
	movw	$0x3000, %ax
	movw	%ax, %fs
	xorw	%di, %di		/* byte offset */
	xorw	%bx, %bx		/* dword offset */
	movw	$LINES, %dx
1:	movw	$line, %si
	movw	$line_len, %cx
2:	lodsb
	stosb
	movzbl	%al, %eax
	movl	%eax, %fs:(%bx)
	addw	$4, %bx
	loop	2b
	decw	%dx
	jnz	1b

	pushw	%ds
	movw	$0x2000, %ax
	movw	%ax, %ds
	xorw	%si, %si
	movw	$LINES * line_len, %cx
	movw	$COM1_THR, %dx
	rep outsb
	movw	$0x3000, %ax
	movw	%ax, %ds
	xorw	%si, %si
	movw	$LINES * line_len, %cx
	movw	$BVMCONS_PORT, %dx
	rep outsl
	popw	%ds
	jmp	poweroff

	.section .rodata
line:	.ascii	"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM\n"
line_len = . - line
