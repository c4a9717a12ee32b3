/*
 * hello_com1 - hello world over the 16550 UART on COM1: each byte is written
 * to THR (0x3f8) once LSR (0x3fd) shows THRE.  Expected output:
 *	hello from com1
 */
#include "lib16.inc"

	.text
	.globl _start
_start:
	GUEST_SETUP
	PUTS_COM1 "hello from com1\n"
	jmp	poweroff
