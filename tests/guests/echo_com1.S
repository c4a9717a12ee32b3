/*
 * echo_com1 - console input through the COM1 UART: prints "ready" (on
 * COM1), then waits for LSR.DR (bit 0 of 0x3fd), reads the byte from RBR
 * (0x3f8) and echoes it on COM1, until it has echoed a newline; then prints
 * "done".  With input "xyz\n" the output is:
 *	ready
 *	xyz
 *	done
 */
#include "lib16.inc"

	.text
	.globl _start
_start:
	GUEST_SETUP
	PUTS_COM1 "ready\n"
1:	movw	$COM1_LSR, %dx
	inb	%dx, %al
	testb	$0x01, %al		/* LSR.DR: a byte is waiting */
	jz	1b
	movw	$COM1_THR, %dx		/* RBR shares THR's port */
	inb	%dx, %al
	call	putc_com1
	cmpb	$10, %al
	jne	1b
	PUTS_COM1 "done\n"
	jmp	poweroff
