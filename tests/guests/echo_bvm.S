/*
 * echo_bvm - console input through bvmcons: prints "ready", then reads
 * bytes with 32-bit IN from 0x220 (0xffffffff while nothing is waiting) and
 * echoes each one until it has echoed a newline, then prints "done".
 * With input "abc\n" the output is:
 *	ready
 *	abc
 *	done
 */
#include "lib16.inc"

	.text
	.globl _start
_start:
	GUEST_SETUP
	PUTS	"ready\n"
	movw	$BVMCONS_PORT, %dx
1:	inl	%dx, %eax
	cmpl	$0xffffffff, %eax
	je	1b			/* no input yet: poll again */
	call	putc
	cmpb	$10, %al
	jne	1b
	PUTS	"done\n"
	jmp	poweroff
