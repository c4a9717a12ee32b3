/* raw.c - the raw real-mode image loader (see raw.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "boot/raw.h"
#include "err.h"
#include "util.h"
#include "vcpu.h"
#include "vm.h"

/* Read all of a regular file of at most max bytes. */
static int raw_read_file(const char *path, size_t max, uint8_t **data, size_t *size)
{
	struct stat st;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(-errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		r = err_set(-EINVAL, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size == 0) {
		r = err_set(-EINVAL, "%s: image is empty", path);
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		r = err_set(-EFBIG, "%s: image of %lld bytes does not fit", path,
			    (long long)st.st_size);
		goto out;
	}
	r = read_fd_whole(path, fd, st.st_size, data);
	if (r == 0)
		*size = st.st_size;
	return r;
out:
	close(fd);
	return r;
}

int raw_open(const char *arg, struct raw_image *img)
{
	char path[4096];
	const char *at = strrchr(arg, '@');
	uint64_t addr = RAW_DEFAULT_ADDR;
	int r;

	memset(img, 0, sizeof(*img));
	/* FILE@ADDR when what follows the last '@' starts like a number. */
	if (at && at[1] >= '0' && at[1] <= '9') {
		if (parse_u64(at + 1, &addr) < 0 || addr >= RAW_ADDR_LIMIT)
			return err_set(-EINVAL, "--raw: bad load address '%s' (must be below 0x%x)",
				       at + 1, RAW_ADDR_LIMIT);
		if ((size_t)(at - arg) >= sizeof(path))
			return err_set(-ENAMETOOLONG, "--raw: file name too long");
		memcpy(path, arg, at - arg);
		path[at - arg] = '\0';
	} else {
		if (strlen(arg) >= sizeof(path))
			return err_set(-ENAMETOOLONG, "--raw: file name too long");
		strcpy(path, arg);
	}
	if (!path[0])
		return err_set(-EINVAL, "--raw: no file name");
	r = raw_read_file(path, RAW_END_LIMIT - addr, &img->data, &img->size);
	if (r == -EFBIG)
		return err_set(r, "%s: image does not fit between 0x%llx and 0x%x",
			       path, (unsigned long long)addr, RAW_END_LIMIT);
	img->addr = addr;
	return r;
}

void raw_free(struct raw_image *img)
{
	free(img->data);
	img->data = NULL;
}

int raw_load(struct vm *vm, const struct raw_image *img)
{
	struct vmm_vcpu *bsp = vm_bsp(vm);
	struct kvm_sregs s;
	struct kvm_regs regs = {
		.rip = img->addr,
		.rflags = 0x2,		/* interrupts off */
		.rsp = img->addr,	/* stack grows down below the image */
		.rdx = 0x80,		/* "boot drive", as a BIOS passes it */
	};
	void *dst = vm_gpa(vm, img->addr, img->size);
	int r;

	if (!dst)
		return err_set(-ENOSPC, "raw image 0x%llx+%zu is not in guest RAM (--memory too small?)",
			       (unsigned long long)img->addr, img->size);
	memcpy(dst, img->data, img->size);

	if ((r = vmm_get_sregs(bsp, &s)) < 0)
		return r;
	/* Real mode, all segments at 0 (KVM's reset state is F000:FFF0). */
	s.cs.selector = 0;
	s.cs.base = 0;
	s.ds = s.es = s.fs = s.gs = s.ss = s.cs;
	s.ds.type = s.es.type = s.fs.type = s.gs.type = s.ss.type = 3;	/* data rw */
	s.cr0 &= ~1ULL;
	if ((r = vmm_set_sregs(bsp, &s)) < 0)
		return r;
	return vmm_set_regs(bsp, &regs);
}
