/*
 * ins - string input from an unclaimed port (0x123): every element of
 * REP INSB / INSW / INSL must be stored and read as all ones, and nothing
 * past the last element may be touched.
 *
 * Each test fills 64 bytes at its buffer with zeros, does the REP INS into
 * the first part and checks: the first part is all 0xff and the rest (the
 * guard) is still zero.  The last test moves 5000 bytes, more than one KVM
 * I/O data page, so KVM splits it into several exits.
 * Elements read from port 0x123: 16 + 8 + 4 + 5000 = 5028.
 * Expected output:
 *	insb ok
 *	insw ok
 *	insd ok
 *	insb 5000 ok
 */
#include "lib16.inc"

PORT = 0x123

/* INS_TEST insn, count, nbytes, label: at 0x2000:0 */
.macro INS_TEST insn, count, nbytes, name
	movw	$0x2000, %ax
	movw	%ax, %es
	xorw	%di, %di
	movw	$(\nbytes + 64), %cx
	xorb	%al, %al
	rep stosb			/* zero data + guard */
	xorw	%di, %di
	movw	$\count, %cx
	movw	$PORT, %dx
	rep \insn
	movw	$\nbytes, %cx
	call	check
	jc	8f
	PUTS	"\name ok\n"
	jmp	9f
8:	PUTS	"\name bad\n"
9:
.endm

	.text
	.globl _start
_start:
	GUEST_SETUP
	INS_TEST insb, 16, 16, "insb"
	INS_TEST insw, 8, 16, "insw"
	INS_TEST insl, 4, 16, "insd"
	INS_TEST insb, 5000, 5000, "insb 5000"
	jmp	poweroff

/*
 * check: %es:0 .. %cx-1 must be 0xff, the 64 bytes after must be 0.
 * Returns CF clear if so, CF set if not.
 */
check:
	pushw	%ax
	pushw	%cx
	pushw	%di
	xorw	%di, %di
	movb	$0xff, %al
	repe scasb
	jne	1f
	movw	$64, %cx
	xorb	%al, %al
	repe scasb
	jne	1f
	clc
	jmp	2f
1:	stc
2:	popw	%di
	popw	%cx
	popw	%ax
	ret
