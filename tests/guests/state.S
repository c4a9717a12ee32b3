/*
 * state - the initial real-mode CPU state hyve promises for the default
 * load (--raw FILE: image at 0x7C00): CS=DS=ES=SS=0, IP=0x7c00, SP=0x7c00,
 * DL=0x80 (boot drive), interrupts off (EFLAGS.IF=0), real mode (CR0.PE=0).
 * The registers are saved (through CS, before anything is changed) and then
 * printed.  Expected output:
 *	cs=0000 ds=0000 es=0000 ss=0000 ip=7c00 sp=7c00 dl=80 if=0 pe=0
 */
#include "lib16.inc"

	.text
	.globl _start
_start:
	movw	%sp, %cs:s_sp
	movw	%cs, %cs:s_cs
	movw	%ds, %cs:s_ds
	movw	%es, %cs:s_es
	movw	%ss, %cs:s_ss
	movb	%dl, %cs:s_dl
	pushfw
	popw	%cs:s_fl
	call	1f			/* %ip of label 1 -> entry %ip */
1:	popw	%cs:s_ip
	subw	$(1b - _start), %cs:s_ip
	movl	%cr0, %eax
	movl	%eax, %cs:s_cr0

	GUEST_SETUP
	PUTS	"cs="
	movzwl	s_cs, %eax
	PUTHEX	4
	PUTS	" ds="
	movzwl	s_ds, %eax
	PUTHEX	4
	PUTS	" es="
	movzwl	s_es, %eax
	PUTHEX	4
	PUTS	" ss="
	movzwl	s_ss, %eax
	PUTHEX	4
	PUTS	" ip="
	movzwl	s_ip, %eax
	PUTHEX	4
	PUTS	" sp="
	movzwl	s_sp, %eax
	PUTHEX	4
	PUTS	" dl="
	movzbl	s_dl, %eax
	PUTHEX	2
	PUTS	" if="
	movzwl	s_fl, %eax
	shrl	$9, %eax		/* EFLAGS.IF is bit 9 */
	andl	$1, %eax
	PUTHEX	1
	PUTS	" pe="
	movl	s_cr0, %eax
	andl	$1, %eax		/* CR0.PE is bit 0 */
	PUTHEX	1
	PUTS	"\n"
	jmp	poweroff

	.data
s_sp:	.word	0
s_cs:	.word	0
s_ds:	.word	0
s_es:	.word	0
s_ss:	.word	0
s_fl:	.word	0
s_ip:	.word	0
s_dl:	.byte	0
	.balign	4
s_cr0:	.long	0
