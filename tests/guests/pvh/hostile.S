/*
 * hostile - a PVH guest (32-bit flat protected mode, in-kernel irqchip,
 * PCI, virtio) that attacks hyve's guest-facing models, then proves that
 * a good virtio-blk request still works.  Run as
 *
 *	hyve run --kernel hostile.pvh --memory 64M --cmdline SCENARIO \
 *		--disk path=IMG --device virtio-rng --console none|stdio
 *
 * IMG: sector 1 starts with "HYVEDISK".  The first letter of the command
 * line picks the scenario; every scenario first places the virtio-blk
 * device's BAR 4 at 0xD0000000, initialises it (polling: interrupts stay
 * off) and does one good request, then attacks, then does good requests
 * again and powers off through ACPI PM1a (status 0).  Output on bvmcons:
 *
 *  b  base: nothing hostile (the memory baseline for the others)
 *  d  decode: 100,000 toggles of the memory-decode bit (bus snapshots)
 *  p  PCI: random writes to the header and config space of all 32 slots,
 *     then BAR 4 moved onto RAM, onto BAR 1, onto the other device's BAR,
 *     onto the LAPIC, the IOAPIC, ECAM and 0; RAM, LAPIC and ECAM checked
 *  m  MSI-X: enable/function-mask storm, random writes over the whole
 *     table BAR (table, PBA, past the table), garbage vectors and
 *     addresses unmasked, out-of-range virtio vector numbers
 *  q  virtqueues: rings in ECAM, LAPIC/IOAPIC, the device's own BAR, the
 *     PCI hole, above RAM, straddling the end of RAM; bad queue sizes;
 *     buffers in MMIO / across 4 GiB; a descriptor loop; 100,000 notifies
 *     over the whole notify area; resets in the middle of 5 x 64 KiB reads
 *     (nothing may be written after the reset is acknowledged)
 *  o  ports: IN of widths 1/2/4 on all 65,536 ports; OUT of 0 on all of
 *     them, and of 0xA5.. on all but the reset/power-off/console ports
 *  w  wait: print "waiting" and spin until hyve is stopped (signal tests,
 *     /proc checks of a running hyve)
 */
BVMCONS = 0x220
PM1A_CNT = 0x604
BLKBAR = 0xd0000000		/* where we put virtio-blk's BAR 4 */
COMMON = BLKBAR
NOTIFY = BLKBAR + 0x3000
QSZ = 16
QDESC = 0x200000
QAVAIL = 0x201000
QUSED = 0x202000
REQHDR = 0x203000
REQSTAT = 0x203800
REQDATA = 0x204000
BIGBUF = 0x400000		/* 5 x 64 KiB for the reset-under-I/O test */
RAMTEST = 0x300000
RAM_END = 0x4000000		/* --memory 64M */

	.code32
	.section .note.pvh, "a"
	.balign 4
	.long 4, 4, 18			/* "Xen", 4 bytes, XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long _start

.macro PUTS str
	.pushsection .rodata
9999:	.asciz "\str"
	.popsection
	pushl	%esi
	movl	$9999b, %esi
	call	puts
	popl	%esi
.endm

	.section .text.entry, "ax"
	.globl _start
_start:
	cli
	movl	$0x1f0000, %esp		/* RAM we do not otherwise use */
	movl	24(%ebx), %esi		/* hvm_start_info.cmdline_paddr */
	movb	(%esi), %al
	movb	%al, scenario
	call	blk_find
	call	blk_place
	call	vio_init
	call	good_request
	movb	scenario, %al
	cmpb	$'d', %al
	je	sc_decode
	cmpb	$'p', %al
	je	sc_pci
	cmpb	$'m', %al
	je	sc_msix
	cmpb	$'q', %al
	je	sc_queues
	cmpb	$'o', %al
	je	sc_ports
	cmpb	$'w', %al
	je	sc_wait
	jmp	finish

sc_wait:				/* for the tests that look at a running hyve */
	PUTS	"waiting\n"
1:	pause
	jmp	1b

finish:
	call	good_request
	PUTS	"alive\n"
poweroff:
	movw	$(5 << 10) | (1 << 13), %ax	/* SLP_TYP S5 | SLP_EN */
	movw	$PM1A_CNT, %dx
	outw	%ax, %dx
1:	jmp	1b

	.text
/* ---- console ---- */
putc:					/* %al */
	pushl	%eax
	pushl	%edx
	movzbl	%al, %eax
	movw	$BVMCONS, %dx
	outl	%eax, %dx
	popl	%edx
	popl	%eax
	ret

puts:					/* %esi */
	pushl	%eax
	pushl	%esi
1:	lodsb
	testb	%al, %al
	jz	2f
	call	putc
	jmp	1b
2:	popl	%esi
	popl	%eax
	ret

hex8:					/* print %eax as 8 hex digits */
	pushal
	movl	$8, %ecx
1:	roll	$4, %eax
	movl	%eax, %ebx
	andl	$0xf, %ebx
	pushl	%eax
	movb	hexdigits(%ebx), %al
	call	putc
	popl	%eax
	loop	1b
	popal
	ret

rand:					/* %eax = next LCG value */
	movl	seed, %eax
	imull	$1103515245, %eax, %eax
	addl	$12345, %eax
	movl	%eax, seed
	rorl	$8, %eax
	ret

/* ---- PCI configuration, mechanism #1: %ebx = slot << 11 | reg ---- */
cfg_sel:				/* select; %edx = data port for the reg */
	pushl	%eax
	movl	%ebx, %eax
	andl	$0xfffc, %eax
	orl	$0x80000000, %eax
	movw	$0xcf8, %dx
	outl	%eax, %dx
	movl	%ebx, %edx
	andl	$3, %edx
	addl	$0xcfc, %edx
	popl	%eax
	ret
cfg_rd32:
	pushl	%edx
	call	cfg_sel
	inl	%dx, %eax
	popl	%edx
	ret
cfg_rd16:
	pushl	%edx
	call	cfg_sel
	xorl	%eax, %eax
	inw	%dx, %ax
	popl	%edx
	ret
cfg_rd8:
	pushl	%edx
	call	cfg_sel
	xorl	%eax, %eax
	inb	%dx, %al
	popl	%edx
	ret
cfg_wr32:
	pushl	%edx
	call	cfg_sel
	outl	%eax, %dx
	popl	%edx
	ret
cfg_wr16:
	pushl	%edx
	call	cfg_sel
	outw	%ax, %dx
	popl	%edx
	ret
cfg_wr8:
	pushl	%edx
	call	cfg_sel
	outb	%al, %dx
	popl	%edx
	ret

/* Find 1af4:1042 (virtio-blk) and 1af4:1044 (virtio-rng) on bus 0. */
blk_find:
	pushal
	movl	$1, %ecx
1:	movl	%ecx, %ebx
	shll	$11, %ebx
	call	cfg_rd32
	cmpl	$0x10421af4, %eax
	jne	2f
	movl	%ebx, blk_cfg
2:	cmpl	$0x10441af4, %eax
	jne	3f
	movl	%ebx, rng_cfg
3:	incl	%ecx
	cmpl	$32, %ecx
	jb	1b
	cmpl	$0, blk_cfg
	jne	4f
	PUTS	"no virtio-blk\n"
	jmp	poweroff
4:	popal
	ret

/* BAR 4 of virtio-blk to BLKBAR (decode off while moving), MEM + MASTER on. */
blk_place:
	pushal
	movl	blk_cfg, %ebx
	orl	$0x04, %ebx
	xorl	%eax, %eax
	call	cfg_wr16
	movl	blk_cfg, %ebx
	orl	$0x20, %ebx
	movl	$BLKBAR, %eax
	call	cfg_wr32
	movl	blk_cfg, %ebx
	orl	$0x24, %ebx
	xorl	%eax, %eax
	call	cfg_wr32
	movl	blk_cfg, %ebx
	orl	$0x04, %ebx
	movl	$6, %eax
	call	cfg_wr16
	popal
	ret

/* ---- virtio (modern, polling) ---- */
vio_reset:
	movb	$0, COMMON + 0x14
	ret

vio_init:
	pushal
	call	vio_reset
	movl	$QAVAIL, %edi			/* zero the rings */
	xorl	%eax, %eax
	movl	$0x800, %ecx
	rep stosl
	movw	$0, avail_idx
	movw	$0, used_seen
	movb	$3, COMMON + 0x14		/* ACKNOWLEDGE | DRIVER */
	movl	$1, COMMON + 0x08
	movl	$1, COMMON + 0x0c		/* VERSION_1 */
	movl	$0, COMMON + 0x08
	movl	$0, COMMON + 0x0c
	movb	$11, COMMON + 0x14		/* FEATURES_OK */
	movw	$0, COMMON + 0x16
	movw	$QSZ, COMMON + 0x18
	movl	$QDESC, COMMON + 0x20
	movl	$0, COMMON + 0x24
	movl	$QAVAIL, COMMON + 0x28
	movl	$0, COMMON + 0x2c
	movl	$QUSED, COMMON + 0x30
	movl	$0, COMMON + 0x34
	movw	$1, COMMON + 0x1c
	movb	$15, COMMON + 0x14		/* DRIVER_OK */
	popal
	ret

/* descriptor %ecx: addr %eax, len %edx, flags/next in %esi (flags | next << 16) */
put_desc:
	pushl	%edi
	movl	%ecx, %edi
	shll	$4, %edi
	addl	$QDESC, %edi
	movl	%eax, (%edi)
	movl	$0, 4(%edi)
	movl	%edx, 8(%edi)
	movl	%esi, 12(%edi)
	popl	%edi
	ret

/* Offer head %ax: avail ring, idx, notify queue 0. */
offer:
	pushal
	movzwl	avail_idx, %ecx
	movl	%ecx, %edx
	andl	$(QSZ - 1), %edx
	movw	%ax, QAVAIL + 4(,%edx,2)
	incl	%ecx
	movw	%cx, avail_idx
	movw	%cx, QAVAIL + 2
	movw	$0, NOTIFY
	popal
	ret

/* Wait for the used index to move: %al = 0 done, 0x40 device needs reset. */
wait_used:
	pushl	%ecx
1:	movw	QUSED + 2, %cx
	cmpw	used_seen, %cx
	jne	2f
	movb	COMMON + 0x14, %al
	testb	$0x40, %al
	jz	1b
	movb	$0x40, %al
	popl	%ecx
	ret
2:	movw	%cx, used_seen
	xorl	%eax, %eax
	popl	%ecx
	ret

/* One request with data buffer (%edi addr, %edx len), type %eax, sector %ecx. */
blk_req:
	pushal
	movl	%eax, REQHDR
	movl	$0, REQHDR + 4
	movl	%ecx, REQHDR + 8
	movl	$0, REQHDR + 12
	movb	$0xee, REQSTAT
	movl	%eax, %ebp			/* type */
	pushl	%edx
	movl	$0, %ecx
	movl	$REQHDR, %eax
	movl	$16, %edx
	movl	$(1 | 1 << 16), %esi		/* NEXT, next 1 */
	call	put_desc
	popl	%edx
	movl	$1, %ecx
	movl	%edi, %eax
	movl	$(1 | 2 | 2 << 16), %esi	/* NEXT | WRITE, next 2 */
	testl	%ebp, %ebp
	jz	1f
	movl	$(1 | 2 << 16), %esi		/* an OUT: the data is read */
1:	call	put_desc
	movl	$2, %ecx
	movl	$REQSTAT, %eax
	movl	$1, %edx
	movl	$2, %esi			/* WRITE */
	call	put_desc
	xorl	%eax, %eax
	call	offer
	call	wait_used
	popal
	ret

/* Read sector 1 and check it: "good request ok" or say what failed. */
good_request:
	pushal
	movl	$REQDATA, %edi
	xorl	%eax, %eax
	movl	$128, %ecx
	rep stosl
	movl	$REQDATA, %edi
	movl	$512, %edx
	xorl	%eax, %eax
	movl	$1, %ecx
	call	blk_req
	cmpb	$0, REQSTAT
	jne	1f
	cmpl	$0x45565948, REQDATA		/* "HYVE" */
	jne	1f
	cmpl	$0x4b534944, REQDATA + 4	/* "DISK" */
	jne	1f
	PUTS	"good request ok\n"
	popal
	ret
1:	PUTS	"good request FAILED status "
	movzbl	REQSTAT, %eax
	call	hex8
	PUTS	"\n"
	jmp	poweroff

/* ---- d: decode toggles ---- */
sc_decode:
	movl	blk_cfg, %ebx
	orl	$0x04, %ebx
	movl	$50000, %ecx
1:	movl	$4, %eax			/* MASTER, decode off */
	call	cfg_wr16
	movl	$6, %eax			/* decode on */
	call	cfg_wr16
	loop	1b
	PUTS	"100000 decode toggles\n"
	jmp	finish

/* ---- p: PCI header/config storm, BAR moves ---- */
save_cfg:				/* cmd and BARs of every slot */
	pushal
	xorl	%ecx, %ecx
1:	movl	%ecx, %ebx
	shll	$11, %ebx
	movl	%ecx, %edi
	imull	$32, %edi
	addl	$saved, %edi
	movl	$0x04, %esi
2:	pushl	%ebx
	orl	%esi, %ebx
	call	cfg_rd32
	popl	%ebx
	movl	%eax, (%edi)
	addl	$4, %edi
	cmpl	$0x04, %esi
	jne	3f
	movl	$0x0c, %esi
3:	addl	$4, %esi
	cmpl	$0x28, %esi
	jb	2b
	incl	%ecx
	cmpl	$32, %ecx
	jb	1b
	popal
	ret

restore_cfg:				/* decode off everywhere, BARs, then cmd */
	pushal
	xorl	%ecx, %ecx
1:	movl	%ecx, %ebx
	shll	$11, %ebx
	orl	$0x04, %ebx
	xorl	%eax, %eax
	call	cfg_wr16
	incl	%ecx
	cmpl	$32, %ecx
	jb	1b
	xorl	%ecx, %ecx
2:	movl	%ecx, %ebx
	shll	$11, %ebx
	movl	%ecx, %edi
	imull	$32, %edi
	addl	$saved + 4, %edi
	movl	$0x10, %esi
3:	pushl	%ebx
	orl	%esi, %ebx
	movl	(%edi), %eax
	call	cfg_wr32
	popl	%ebx
	addl	$4, %edi
	addl	$4, %esi
	cmpl	$0x28, %esi
	jb	3b
	incl	%ecx
	cmpl	$32, %ecx
	jb	2b
	xorl	%ecx, %ecx
4:	movl	%ecx, %ebx
	shll	$11, %ebx
	movl	%ecx, %edi
	imull	$32, %edi
	movl	saved(%edi), %eax
	orl	$0x04, %ebx
	call	cfg_wr16
	incl	%ecx
	cmpl	$32, %ecx
	jb	4b
	popal
	ret

/* BAR 4 of virtio-blk to %eax (decode off, move, on), then poke it. */
move_bar4:
	pushal
	movl	%eax, %ebp
	movl	blk_cfg, %ebx
	orl	$0x04, %ebx
	pushl	%ebx
	movl	$4, %eax
	call	cfg_wr16
	movl	blk_cfg, %ebx
	orl	$0x20, %ebx
	movl	%ebp, %eax
	call	cfg_wr32
	movl	blk_cfg, %ebx
	orl	$0x24, %ebx
	xorl	%eax, %eax
	call	cfg_wr32
	popl	%ebx
	movl	$6, %eax
	call	cfg_wr16
	movl	(%ebp), %eax			/* whatever answers there now */
	movl	0x14(%ebp), %eax
	popal
	ret

sc_pci:
	call	save_cfg
	movl	$0xfee00030, %esi
	movl	(%esi), %eax
	movl	%eax, lapic_ver
	movl	$0x5a5a1234, RAMTEST + 0x10
	/* random writes: every slot, dwords 0x04-0xfc, widths 4, 2, 1 */
	xorl	%ecx, %ecx
1:	movl	$0x04, %esi
2:	movl	%ecx, %ebx
	shll	$11, %ebx
	orl	%esi, %ebx
	call	rand
	call	cfg_wr32
	call	rand
	call	cfg_wr16
	incl	%ebx
	call	rand
	call	cfg_wr8
	decl	%ebx
	call	cfg_rd32
	addl	$4, %esi
	cmpl	$0x100, %esi
	jb	2b
	incl	%ecx
	cmpl	$32, %ecx
	jb	1b
	/* again on the header only, many times */
	movl	$64, %edx
3:	xorl	%ecx, %ecx
4:	movl	$0x04, %esi
5:	movl	%ecx, %ebx
	shll	$11, %ebx
	orl	%esi, %ebx
	call	rand
	call	cfg_wr32
	movl	$0xffffffff, %eax		/* sizing */
	call	cfg_wr32
	call	cfg_rd32
	addl	$4, %esi
	cmpl	$0x40, %esi
	jb	5b
	incl	%ecx
	cmpl	$32, %ecx
	jb	4b
	decl	%edx
	jnz	3b
	call	restore_cfg
	PUTS	"config storm done\n"
	/* BAR 4 onto RAM, its own BAR 1, the rng's BAR 1, LAPIC, IOAPIC, ECAM, 0 */
	movl	$RAMTEST, %eax
	call	move_bar4
	movl	blk_cfg, %ebx
	orl	$0x14, %ebx
	call	cfg_rd32
	andl	$0xfffffff0, %eax
	call	move_bar4
	movl	rng_cfg, %ebx
	testl	%ebx, %ebx
	jz	6f
	orl	$0x14, %ebx
	call	cfg_rd32
	andl	$0xfffffff0, %eax
	call	move_bar4
6:	movl	$0xfee00000, %eax
	call	move_bar4
	movl	$0xfec00000, %eax
	call	move_bar4
	movl	$0xe0000000, %eax
	call	move_bar4
	xorl	%eax, %eax
	call	move_bar4
	cmpl	$0x5a5a1234, RAMTEST + 0x10
	jne	7f
	PUTS	"ram intact\n"
7:	movl	$0xfee00030, %esi
	movl	(%esi), %eax
	cmpl	lapic_ver, %eax
	jne	8f
	PUTS	"lapic ok\n"
8:	movl	blk_cfg, %esi			/* vendor/device through ECAM */
	shll	$4, %esi			/* slot << 15 */
	addl	$0xe0000000, %esi
	cmpl	$0x10421af4, (%esi)
	jne	9f
	PUTS	"ecam ok\n"
9:	call	blk_place
	call	vio_init
	jmp	finish

/* ---- m: MSI-X ---- */
sc_msix:
	movl	blk_cfg, %ebx			/* find the MSI-X capability */
	orl	$0x34, %ebx
	call	cfg_rd8
1:	testl	%eax, %eax
	jz	msix_none
	movl	blk_cfg, %ebx
	orl	%eax, %ebx
	movl	%eax, %esi
	call	cfg_rd8
	cmpb	$0x11, %al
	je	2f
	movl	blk_cfg, %ebx
	orl	%esi, %ebx
	incl	%ebx
	call	cfg_rd8
	jmp	1b
2:	movl	blk_cfg, %ebx
	orl	%esi, %ebx
	addl	$2, %ebx			/* message control */
	movl	%ebx, msix_ctrl
	movl	blk_cfg, %ebx			/* the table BAR (BAR 1) */
	orl	$0x14, %ebx
	call	cfg_rd32
	andl	$0xfffffff0, %eax
	movl	%eax, msix_bar
	/* enable / function-mask storm */
	movl	msix_ctrl, %ebx
	movl	$2000, %ecx
3:	movl	$0xc000, %eax
	call	cfg_wr16
	movl	$0x8000, %eax
	call	cfg_wr16
	movl	$0x4000, %eax
	call	cfg_wr16
	loop	3b
	/* random writes of widths 4, 2, 1 over the whole BAR */
	movl	msix_bar, %edi
	movl	$0x400, %ecx
4:	call	rand
	movl	%eax, (%edi)
	call	rand
	movw	%ax, 2(%edi)
	call	rand
	movb	%al, 1(%edi)
	movl	(%edi), %eax
	addl	$4, %edi
	loop	4b
	/* unmasked garbage: vector data 0xffff, addresses off the LAPIC window */
	movl	msix_bar, %edi
	movl	$0xdeadbee0, 0(%edi)
	movl	$0xffffffff, 4(%edi)
	movl	$0xffff, 8(%edi)
	movl	$0, 12(%edi)
	movl	$0xfee00000, 16(%edi)
	movl	$0, 20(%edi)
	movl	$0xffffffff, 24(%edi)
	movl	$0, 28(%edi)
	movl	$0xffffffff, 0x800(%edi)	/* the PBA is read-only */
	movl	msix_ctrl, %ebx
	movl	$0x8000, %eax
	call	cfg_wr16
	/* out-of-range virtio vectors, then traffic */
	call	vio_init
	movw	$0x7ff, COMMON + 0x10		/* config vector */
	movw	$0, COMMON + 0x16
	movw	$0x1234, COMMON + 0x1a		/* queue 0 vector */
	call	good_request
	movw	$1, COMMON + 0x1a		/* vector 1: garbage address */
	call	good_request
	movw	$0, COMMON + 0x1a		/* vector 0: not a LAPIC address */
	call	good_request
	movl	msix_ctrl, %ebx
	xorl	%eax, %eax
	call	cfg_wr16
	PUTS	"msix storm done\n"
	call	vio_init
	jmp	finish
msix_none:
	PUTS	"no MSI-X capability\n"
	jmp	poweroff

/* ---- q: virtqueues ---- */
/* Configure queue 0 with desc %eax, avail %edx, used %esi, high dword %edi; DRIVER_OK; kick. */
bad_queue:
	pushal
	call	vio_reset
	movb	$3, COMMON + 0x14
	movl	$1, COMMON + 0x08
	movl	$1, COMMON + 0x0c
	movl	$0, COMMON + 0x08
	movl	$0, COMMON + 0x0c
	movb	$11, COMMON + 0x14
	movw	$0, COMMON + 0x16
	movw	$QSZ, COMMON + 0x18
	movl	%eax, COMMON + 0x20
	movl	%edi, COMMON + 0x24
	movl	%edx, COMMON + 0x28
	movl	%edi, COMMON + 0x2c
	movl	%esi, COMMON + 0x30
	movl	%edi, COMMON + 0x34
	movw	$1, COMMON + 0x1c
	movb	$15, COMMON + 0x14
	movw	$0, NOTIFY
	movb	COMMON + 0x14, %al
	testb	$0x40, %al
	jz	1f
	PUTS	"bad queue refused\n"
	popal
	ret
1:	PUTS	"bad queue ACCEPTED\n"
	popal
	ret

/* A request whose data buffer is %edi, %edx long: answered or refused. */
bad_buffer:
	pushal
	call	vio_init
	xorl	%eax, %eax
	movl	$1, %ecx
	call	blk_req
	PUTS	"bad buffer handled\n"
	popal
	ret

sc_queues:
	xorl	%edi, %edi
	movl	$0xe0000000, %eax		/* ECAM */
	movl	$0xe0001000, %edx
	movl	$0xe0002000, %esi
	call	bad_queue
	movl	$0xfec00000, %eax		/* IOAPIC, LAPIC */
	movl	$0xfee00000, %edx
	movl	$0xfee01000, %esi
	call	bad_queue
	movl	$BLKBAR, %eax			/* its own BAR */
	movl	$BLKBAR + 0x1000, %edx
	movl	$BLKBAR + 0x2000, %esi
	call	bad_queue
	movl	$0xf0000000, %eax		/* the PCI hole */
	movl	$0xf0001000, %edx
	movl	$0xf0002000, %esi
	call	bad_queue
	movl	$RAM_END - 8, %eax		/* straddling the end of RAM */
	movl	$RAM_END - 2, %edx
	movl	$RAM_END - 4, %esi
	call	bad_queue
	movl	$1, %edi			/* above 4 GiB: no RAM there */
	movl	$0x3fff0000, %eax
	movl	$0x3fff1000, %edx
	movl	$0x3fff2000, %esi
	call	bad_queue
	/* queue sizes: 0, 3, 0xffff, 512 (more than offered): all ignored */
	call	vio_reset
	movw	$0, COMMON + 0x16
	movw	$0, COMMON + 0x18
	movw	$3, COMMON + 0x18
	movw	$0xffff, COMMON + 0x18
	movw	$512, COMMON + 0x18
	movw	$7, COMMON + 0x16		/* no such queue */
	movw	$16, COMMON + 0x18
	movw	$1, COMMON + 0x1c
	/* buffers in MMIO, across 4 GiB, past the end of RAM */
	movl	$0xfee00000, %edi
	movl	$512, %edx
	call	bad_buffer
	movl	$BLKBAR, %edi
	movl	$512, %edx
	call	bad_buffer
	movl	$0xfffffe00, %edi
	movl	$0x1000, %edx
	call	bad_buffer
	movl	$RAM_END - 0x200, %edi
	movl	$0x400, %edx
	call	bad_buffer
	/* a descriptor loop: 0 -> 0 */
	call	vio_init
	xorl	%ecx, %ecx
	movl	$REQHDR, %eax
	movl	$16, %edx
	movl	$1, %esi			/* NEXT, next 0 */
	call	put_desc
	xorl	%eax, %eax
	call	offer
	call	wait_used
	PUTS	"descriptor loop handled\n"
	/* notify storm: 100,000 writes over the whole notify area */
	call	vio_init
	movl	$100000, %ecx
	xorl	%esi, %esi
1:	movl	%esi, %edi
	andl	$0xffc, %edi
	movw	%si, NOTIFY(%edi)
	movl	%esi, NOTIFY(%edi)
	addl	$4, %esi
	loop	1b
	PUTS	"notify storm done\n"
	call	good_request
	/* resets in the middle of I/O */
	movl	$20, %ebp
2:	call	vio_init
	xorl	%ebx, %ebx			/* chain b: descs 3b, 3b+1, 3b+2 */
3:	movl	%ebx, %eax
	shll	$4, %eax
	addl	$REQHDR, %eax
	movl	$0, (%eax)			/* IN */
	movl	$0, 4(%eax)
	movl	%ebx, %ecx
	shll	$7, %ecx			/* sector 128 b */
	movl	%ecx, 8(%eax)
	movl	$0, 12(%eax)
	leal	(%ebx,%ebx,2), %ecx
	movl	$16, %edx
	leal	1(%ecx), %esi
	shll	$16, %esi
	orl	$1, %esi
	call	put_desc
	incl	%ecx
	movl	%ebx, %eax
	shll	$16, %eax
	addl	$BIGBUF, %eax
	movl	$0x10000, %edx
	leal	1(%ecx), %esi
	shll	$16, %esi
	orl	$3, %esi
	call	put_desc
	incl	%ecx
	leal	REQSTAT(%ebx), %eax
	movl	$1, %edx
	movl	$2, %esi
	call	put_desc
	leal	(%ebx,%ebx,2), %eax
	call	offer
	incl	%ebx
	cmpl	$5, %ebx
	jb	3b
	movl	%ebp, %ecx			/* a varying delay */
	shll	$6, %ecx
4:	pause
	loop	4b
	call	vio_reset			/* reset mid-I/O ... */
	movb	COMMON + 0x14, %al		/* ... acknowledged */
	movl	$BIGBUF, %edi			/* the driver reuses its pages */
	xorl	%eax, %eax
	movl	$0x14000, %ecx
	rep stosl
	movl	$0xeeeeeeee, REQSTAT
	movl	$0, QUSED
	movl	$2000000, %ecx
5:	pause
	loop	5b
	movl	$BIGBUF, %esi
	movl	$0x14000, %ecx
6:	lodsl
	testl	%eax, %eax
	jnz	7f
	loop	6b
	cmpl	$0xeeeeeeee, REQSTAT
	jne	7f
	cmpl	$0, QUSED
	jne	7f
	decl	%ebp
	jnz	2b
	PUTS	"20 resets under I/O quiesced\n"
	call	vio_init
	jmp	finish
7:	PUTS	"WRITE AFTER RESET\n"
	jmp	poweroff

/* ---- o: ports ---- */
/* Is port %edx (width %ecx) one that resets, powers off or prints?  ZF=0: skip */
risky_port:
	pushl	%eax
	pushl	%ebx
	movl	$risky, %ebx
1:	movl	(%ebx), %eax
	testl	%eax, %eax
	jz	3f
	/* overlap of [edx, edx+ecx) and [lo, hi] */
	leal	(%edx,%ecx), %eax
	cmpl	(%ebx), %eax
	jbe	2f
	cmpl	4(%ebx), %edx
	ja	2f
	popl	%ebx
	popl	%eax
	orl	$1, %eax			/* (ZF=0) */
	ret
2:	addl	$8, %ebx
	jmp	1b
3:	popl	%ebx
	popl	%eax
	xorl	%eax, %eax			/* ZF=1: (eax restored by caller) */
	ret

sc_ports:
	xorl	%edx, %edx			/* IN, every port, every width */
1:	inb	%dx, %al
	inw	%dx, %ax
	inl	%dx, %eax
	incl	%edx
	cmpl	$0x10000, %edx
	jb	1b
	PUTS	"in storm done\n"
	xorl	%edx, %edx			/* OUT 0, all but bvmcons */
2:	cmpl	$0x21c, %edx
	jb	3f
	cmpl	$0x223, %edx
	jbe	4f
3:	xorl	%eax, %eax
	outb	%al, %dx
	outw	%ax, %dx
	outl	%eax, %dx
4:	incl	%edx
	cmpl	$0x10000, %edx
	jb	2b
	PUTS	"\nout 0 storm done\n"	/* (after the NULs it wrote to COM1) */
	xorl	%edx, %edx			/* OUT 0xa5.., not the risky ones */
5:	movl	$4, %ecx
	pushl	%eax
	call	risky_port
	popl	%eax
	jnz	6f
	movl	$0xa5a5a5a5, %eax
	outb	%al, %dx
	outw	%ax, %dx
	outl	%eax, %dx
6:	incl	%edx
	cmpl	$0x10000, %edx
	jb	5b
	movw	$0xcf8, %dx
	xorl	%eax, %eax
	outl	%eax, %dx
	PUTS	"\nout pattern storm done\n"
	jmp	finish

	.section .rodata
hexdigits:
	.ascii	"0123456789abcdef"
	.balign 4
risky:	/* [lo, hi]: i8042, port 0x92, bvmcons, ACPI PM1a, PCI config + 0xCF9 */
	.long	0x60, 0x67, 0x92, 0x92, 0x21c, 0x223, 0x600, 0x607, 0xcf8, 0xcff, 0, 0

	.data
	.balign 4
seed:	.long	0x12345678
blk_cfg: .long	0
rng_cfg: .long	0
msix_ctrl: .long 0
msix_bar: .long	0
lapic_ver: .long 0
avail_idx: .word 0
used_seen: .word 0
scenario: .byte	0
	.bss
	.balign 4
saved:	.space	32 * 32
